/**
 * What the status bar item says in each state of the server, as pure data.
 *
 * The states follow the server's life: the process starts, the model loads in the background
 * (the server reports `$/progress`), then completions are ready. Completion turned off, everywhere
 * or for the active editor's document (enablement.ts), shows as off whatever the server does, and
 * an error wins over everything: the user must see it.
 */

import type { Disabled } from './enablement';

export type ServerState =
  | { kind: 'starting' }
  | { kind: 'loading'; message?: string; percentage?: number }
  | { kind: 'ready'; detail?: string }
  | { kind: 'unreachable'; message: string }
  | { kind: 'error'; message: string }
  | { kind: 'stopped' }
  /** The window has no file open yet: the server starts with the first one. */
  | { kind: 'idle' }
  /** No interpreter configured and no managed environment yet: the user has to accept a set-up. */
  | { kind: 'needs-setup' }
  | { kind: 'setting-up'; message?: string };

/** The commands a click on the item runs (contributed in package.json). */
export const COMMANDS = {
  toggle: 'nanopilot.toggle',
  restart: 'nanopilot.restart',
  showLog: 'nanopilot.showLog',
  showStatus: 'nanopilot.showStatus',
  showLastContext: 'nanopilot.showLastContext',
  setUp: 'nanopilot.setUpEnvironment',
} as const;

/** VS Code's own command that opens the Settings editor at the setting named in its argument. */
export const OPEN_SETTINGS = 'workbench.action.openSettings';

export interface StatusView {
  /** Status bar text; `$(name)` is a codicon. */
  text: string;
  tooltip: string;
  command: string;
  arguments?: unknown[];
  /** Shown with the error background. */
  isError: boolean;
}

function loadingText(state: { message?: string; percentage?: number }): string {
  const percent = state.percentage === undefined ? '' : ` ${Math.round(state.percentage)}%`;
  return `$(sync~spin) nanopilot: loading${percent}`;
}

/** The item when completion is off for the active editor's document (or everywhere). */
function offView(disabled: Disabled): StatusView {
  switch (disabled.by) {
    case 'enable':
      return {
        text: '$(circle-slash) nanopilot: off',
        tooltip: 'Completions are turned off. Click to turn them on.',
        command: COMMANDS.toggle,
        isError: false,
      };
    case 'language': {
      const rule =
        disabled.entry === '*'
          ? `"*": false and no entry for ${disabled.languageId}`
          : `"${disabled.entry}": false`;
      return {
        text: `$(circle-slash) nanopilot: off for ${disabled.languageId}`,
        tooltip: `Completions are off for ${disabled.languageId} (nanopilot.languages has ${rule}). Click to change it.`,
        command: OPEN_SETTINGS,
        arguments: ['nanopilot.languages'],
        isError: false,
      };
    }
    case 'exclude':
      return {
        text: '$(circle-slash) nanopilot: off for this file',
        tooltip: `This file matches ${disabled.pattern} in nanopilot.exclude: no completions, and the server does not see it. Click to change it.`,
        command: OPEN_SETTINGS,
        arguments: ['nanopilot.exclude'],
        isError: false,
      };
  }
}

/** `disabled`: why completion is off for the active editor's document; undefined: it is on. */
export function statusView(state: ServerState, disabled?: Disabled): StatusView {
  if (state.kind === 'error') {
    return {
      text: '$(error) nanopilot: error',
      tooltip: `${state.message}\nClick to show the log.`,
      command: COMMANDS.showLog,
      isError: true,
    };
  }
  if (state.kind === 'stopped') {
    return {
      text: '$(debug-stop) nanopilot: stopped',
      tooltip: 'The completion server is not running. Click to restart it.',
      command: COMMANDS.restart,
      isError: false,
    };
  }
  if (state.kind === 'needs-setup') {
    return {
      text: '$(tools) nanopilot: set up',
      tooltip: 'nanopilot needs a Python environment. Click to set it up.',
      command: COMMANDS.setUp,
      isError: false,
    };
  }
  if (state.kind === 'setting-up') {
    return {
      text: '$(sync~spin) nanopilot: setting up',
      tooltip: `${state.message ?? 'Setting up Python'}. Click to show the log.`,
      command: COMMANDS.showLog,
      isError: false,
    };
  }
  if (disabled !== undefined) {
    return offView(disabled);
  }
  switch (state.kind) {
    case 'idle':
      return {
        text: '$(circle-outline) nanopilot',
        tooltip: 'The completion server starts when you open a file.',
        command: COMMANDS.showLog,
        isError: false,
      };
    case 'starting':
      return {
        text: '$(sync~spin) nanopilot: starting',
        tooltip: 'Starting the completion server. Click to show the log.',
        command: COMMANDS.showLog,
        isError: false,
      };
    case 'loading':
      return {
        text: loadingText(state),
        tooltip: `${state.message ?? 'Loading the model'}. Click to show the log.`,
        command: COMMANDS.showLog,
        isError: false,
      };
    case 'unreachable':
      return {
        text: '$(warning) nanopilot: engine unreachable',
        tooltip: `${state.message}\nSuggestions come back by themselves when it answers. Click to show the log.`,
        command: COMMANDS.showLog,
        isError: false,
      };
    case 'ready':
      return {
        text: '$(sparkle) nanopilot: ready',
        tooltip: `${state.detail ?? 'Completions are on'}. Click for the server's status.`,
        command: COMMANDS.showStatus,
        isError: false,
      };
  }
}

/**
 * The state after the model finished loading, from the server's `nanopilot.status` answer
 * (`state` is "ready", "no model", "loading", "disabled" or "engine unreachable"; `error` says why
 * the last load failed, in which case a "ready" server still serves the model it had, or why the
 * remote engine does not answer). `detail` is the progress message. The server also sends this
 * report as a `nanopilot/status` notification when a remote engine stops or starts answering.
 */
export function stateFromReport(report: unknown, detail?: string): ServerState {
  const fields = (report !== null && typeof report === 'object' ? report : {}) as Record<
    string,
    unknown
  >;
  const error = typeof fields.error === 'string' ? fields.error : undefined;
  switch (fields.state) {
    case 'no model':
      return { kind: 'error', message: `No model: ${error ?? detail ?? 'see the log'}` };
    case 'loading':
      return { kind: 'loading', message: detail };
    case 'engine unreachable':
      return { kind: 'unreachable', message: `Engine unreachable: ${error ?? 'see the log'}` };
    default:
      return { kind: 'ready', detail: error ? `Still the previous model (${error})` : detail };
  }
}
