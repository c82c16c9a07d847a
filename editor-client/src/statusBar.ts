/**
 * The status bar item: renders `statusView` (status.ts) for the server's state and whether
 * completion is on for the active editor's document.
 */

import * as vscode from 'vscode';

import type { Disabled } from './enablement';
import { type ServerState, statusView } from './status';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'nanopilot.status',
    vscode.StatusBarAlignment.Right,
    100,
  );
  private state: ServerState = { kind: 'idle' };
  private disabled: Disabled | undefined;

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

  /** Why completion is off for the active editor's document; undefined: it is on. */
  setDisabled(disabled: Disabled | undefined): void {
    this.disabled = disabled;
    this.render();
  }

  private render(): void {
    const view = statusView(this.state, this.disabled);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.arguments
      ? { title: view.text, command: view.command, arguments: view.arguments }
      : view.command;
    this.item.backgroundColor = view.isError
      ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
