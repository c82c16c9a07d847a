/**
 * Entry point: VS Code calls `activate` when a Python file opens (package.json's
 * activationEvents). It creates the log, the status bar item and the server controller, and
 * registers the commands of package.json's `contributes.commands`.
 */

import * as vscode from 'vscode';

import { ServerController } from './controller';
import { COMMANDS } from './status';
import { StatusBar } from './statusBar';

let controller: ServerController | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('nanopilot', { log: true });
  const statusBar = new StatusBar();
  controller = new ServerController(
    context.extensionPath,
    context.globalStorageUri.fsPath,
    log,
    statusBar,
  );
  const server = controller;
  context.subscriptions.push(
    log,
    statusBar,
    vscode.commands.registerCommand(COMMANDS.toggle, () => server.toggle()),
    vscode.commands.registerCommand(COMMANDS.restart, () => server.restart()),
    vscode.commands.registerCommand(COMMANDS.showLog, () => server.showLog()),
    vscode.commands.registerCommand(COMMANDS.showStatus, () => server.showStatus()),
    vscode.commands.registerCommand(COMMANDS.setUp, () => server.setUp()),
    vscode.workspace.onDidChangeConfiguration((event) => server.onDidChangeConfiguration(event)),
  );
  void server.start();
}

export function deactivate(): Promise<void> | undefined {
  return controller?.stop();
}
