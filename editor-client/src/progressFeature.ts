/**
 * Shows the server's work-done progress (the model loading) in the status bar.
 *
 * vscode-languageclient's own ProgressFeature answers `window/workDoneProgress/create` with a
 * notification popup. This feature is registered after it, so its `initialize` (run on every
 * start and restart) installs the handler that wins: each progress token then reports to
 * `onProgress` instead, which drives the status bar item.
 */

import {
  type ClientCapabilities,
  type FeatureState,
  type LanguageClient,
  type StaticFeature,
  WorkDoneProgress,
  WorkDoneProgressCreateRequest,
  type WorkDoneProgressBegin,
  type WorkDoneProgressEnd,
  type WorkDoneProgressReport,
} from 'vscode-languageclient/node';

export type ProgressValue = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

export class StatusProgressFeature implements StaticFeature {
  constructor(
    private readonly client: LanguageClient,
    private readonly onProgress: (value: ProgressValue) => void,
  ) {}

  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.window = { ...capabilities.window, workDoneProgress: true };
  }

  initialize(): void {
    this.client.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => {
      const subscription = this.client.onProgress(WorkDoneProgress.type, token, (value) => {
        this.onProgress(value);
        if (value.kind === 'end') {
          subscription.dispose();
        }
      });
    });
  }

  getState(): FeatureState {
    return { kind: 'static' };
  }

  clear(): void {}
}
