/**
 * Entry point: VS Code calls `activate` once the window has started (package.json's
 * activationEvents: completion is offered in every language). It creates the log, the status bar
 * item and the server controller, and registers the commands of package.json's
 * `contributes.commands`. The server starts with the first file or untitled document: a window
 * with nothing to complete runs no Python.
 */

import * as vscode from 'vscode';

import { inSelector, ServerController } from './controller';
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
    vscode.commands.registerCommand(COMMANDS.showLastContext, () => server.showLastContext()),
    vscode.commands.registerCommand(COMMANDS.setUp, () => server.setUp()),
    vscode.workspace.onDidChangeConfiguration((event) => server.onDidChangeConfiguration(event)),
    vscode.window.onDidChangeActiveTextEditor((editor) => server.onDidChangeActiveEditor(editor)),
    // A new language mode reopens the document under its new language id.
    vscode.workspace.onDidOpenTextDocument(() =>
      server.onDidChangeActiveEditor(vscode.window.activeTextEditor),
    ),
  );
  if (vscode.workspace.textDocuments.some(inSelector)) {
    void server.start();
    return;
  }
  const firstDocument = vscode.workspace.onDidOpenTextDocument((document) => {
    if (inSelector(document)) {
      firstDocument.dispose();
      void server.start();
    }
  });
  context.subscriptions.push(firstDocument);
}

export function deactivate(): Promise<void> | undefined {
  return controller?.stop();
}
