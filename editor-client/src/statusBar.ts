/** The status bar item: renders `statusView` (status.ts) for the current state and setting. */

import * as vscode from 'vscode';

import { type ServerState, statusView } from './status';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'nanopilot.status',
    vscode.StatusBarAlignment.Right,
    100,
  );
  private state: ServerState = { kind: 'stopped' };
  private enabled = true;

  constructor() {
    this.item.name = 'nanopilot';
    this.render();
    this.item.show();
  }

  get current(): ServerState {
    return this.state;
  }

  setState(state: ServerState): void {
    this.state = state;
    this.render();
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.render();
  }

  private render(): void {
    const view = statusView(this.state, this.enabled);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.command;
    this.item.backgroundColor = view.isError
      ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
