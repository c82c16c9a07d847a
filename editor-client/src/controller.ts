/**
 * The server's life in the editor: choose the interpreter (`nanopilot.pythonPath`, else the
 * managed environment, offering to set it up), check it, start `python -m server`, follow its
 * state, pass settings on, restart a crashed server a few times and then stop and say why.
 *
 * Settings go to the server under its own names (settings.ts) three ways: initializationOptions
 * at start, `workspace/didChangeConfiguration` on every change (no restart), and the answer to
 * its `workspace/configuration` requests. Only `pythonPath` needs a new process, and a decoder
 * whose optional dependencies the managed environment may lack (`onnx`): starting installs them.
 *
 * The client opens files and untitled documents of every language to the server; its middleware
 * keeps what the user turned off from it (enablement.ts): no completion request for a document
 * where completion is off, and no notification at all about a file that `nanopilot.exclude`
 * matches (syncGate.ts).
 */

import * as path from 'node:path';

import * as vscode from 'vscode';
import {
  CloseAction,
  type CloseHandlerResult,
  type ConfigurationParams,
  DidChangeConfigurationNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ErrorAction,
  type ErrorHandlerResult,
  ExecuteCommandRequest,
  type LanguageClientOptions,
  ResponseError,
  RevealOutputChannelOn,
  State,
} from 'vscode-languageclient/node';

import {
  completionEnabled,
  type Disabled,
  type DocumentInfo,
  matchingGlob,
  whyDisabled,
} from './enablement';
import { ManagedEnvironment } from './environment';
import { checkPython, describeProblem } from './preflight';
import { type ProgressValue, StatusProgressFeature } from './progressFeature';
import { RestartPolicy } from './restartPolicy';
import { ServerClient } from './serverClient';
import {
  excludeFromScopes,
  type ExtensionSettings,
  pythonCommand,
  pythonExtras,
  readSettings,
  restartReason,
  SECTION,
  type ServerSettings,
  toServerSettings,
} from './settings';
import { stateFromReport } from './status';
import type { StatusBar } from './statusBar';
import { formatStatusReport } from './statusReport';
import { SyncGate } from './syncGate';

/** The server's `workspace/executeCommand` that reports model, device, latency, cache use. */
const SERVER_STATUS_COMMAND = 'nanopilot.status';
const SERVER_LAST_CONTEXT_COMMAND = 'nanopilot.lastContext';
const SERVER_STATUS_NOTIFICATION = 'nanopilot/status';

/** Buttons of the notifications. */
const SET_UP = 'Set up';
const CHOOSE_INTERPRETER = 'Choose interpreter';
const RETRY = 'Retry';
const SHOW_LOG = 'Show Log';

/**
 * Files, untitled documents and notebook cells of every language: not the output panes, git's
 * views of old versions, the settings editors or other virtual documents, which hold nothing to
 * complete.
 */
const DOCUMENT_SELECTOR = [
  { scheme: 'file' },
  { scheme: 'untitled' },
  { scheme: 'vscode-notebook-cell' },
];
/** The schemes whose URIs hold a file's path: a cell's is its notebook's. */
const PATH_SCHEMES = ['file', 'vscode-notebook-cell'];

export function inSelector(document: vscode.TextDocument): boolean {
  return vscode.languages.match(DOCUMENT_SELECTOR, document) > 0;
}

function currentSettings(): ExtensionSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const scopes = config.inspect('exclude');
  const exclude = excludeFromScopes([
    scopes?.defaultValue,
    scopes?.globalValue,
    scopes?.workspaceValue,
  ]);
  return readSettings((key) => (key === 'exclude' ? exclude : config.get(key)));
}

function workspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** What the rules of enablement.ts look at: the language, and for a file its paths. */
function documentInfo(document: vscode.TextDocument): DocumentInfo {
  const { languageId, uri } = document;
  if (!PATH_SCHEMES.includes(uri.scheme)) {
    return { languageId };
  }
  const file = vscode.Uri.file(uri.fsPath);
  const folder = vscode.workspace.getWorkspaceFolder(file);
  const relativePath = folder ? path.relative(folder.uri.fsPath, file.fsPath) : undefined;
  return { languageId, path: file.fsPath, relativePath };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class ServerController {
  private client: ServerClient | undefined;
  /** Whether the current client got past `initialize` since it last (re)started. */
  private initialized = false;
  private settings = currentSettings();
  private readonly restarts = new RestartPolicy();
  /** Start, stop and restart run one after the other, never interleaved. */
  private queue: Promise<void> = Promise.resolve();
  private readonly environment: ManagedEnvironment;
  /** The set-up offer is made once per session; afterwards the status bar item keeps it. */
  private setupOffered = false;
  /** The documents the current client keeps from the server (a new client opens all anew). */
  private gate = new SyncGate();
  /** The document the status bar speaks of: the last active editor's file or untitled one. */
  private shownDocument: vscode.TextDocument | undefined;

  constructor(
    private readonly extensionPath: string,
    storageDir: string,
    private readonly log: vscode.LogOutputChannel,
    private readonly statusBar: StatusBar,
  ) {
    this.onDidChangeActiveEditor(vscode.window.activeTextEditor);
    this.environment = new ManagedEnvironment(storageDir, extensionPath, log, {
      progress: (message) => statusBar.setState({ kind: 'setting-up', message }),
      failed: (message, kind) => this.setupFailed(message, kind),
    });
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  /** The user's restart: forgets past crashes, so a fixed setup gets a fresh chance. */
  restart(): Promise<void> {
    return this.enqueue(async () => {
      this.restarts.reset();
      await this.doStop();
      await this.doStart();
    });
  }

  /** Creates the managed environment (the user accepted), then starts the server with it. */
  setUp(): Promise<void> {
    return this.enqueue(async () => {
      this.restarts.reset();
      await this.doStop();
      this.statusBar.setState({ kind: 'setting-up' });
      if (await this.environment.setUp(pythonExtras(this.settings))) {
        if (pythonCommand(this.settings, workspaceFolder()) !== undefined) {
          this.log.info(
            'nanopilot.pythonPath is set, so the server keeps using it; clear the ' +
              'setting to use the environment just set up',
          );
        }
        await this.doStart();
      }
    });
  }

  async toggle(): Promise<void> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const where = config.inspect<boolean>('enable');
    // Change the value where it is set, so that a workspace value does not hide the change.
    const target =
      where?.workspaceFolderValue !== undefined
        ? vscode.ConfigurationTarget.WorkspaceFolder
        : where?.workspaceValue !== undefined
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global;
    await config.update('enable', !this.settings.enable, target);
  }

  /** An editor of another kind (output, settings) leaves the status bar at the last document. */
  onDidChangeActiveEditor(editor: vscode.TextEditor | undefined): void {
    if (editor === undefined || inSelector(editor.document)) {
      this.shownDocument = editor?.document;
    }
    this.statusBar.setDisabled(this.disabledForShownDocument());
  }

  showLog(): void {
    this.log.show(true);
  }

  /** What the last suggestion was made from (the server's nanopilot.lastContext), in the log. */
  async showLastContext(): Promise<void> {
    const report = await this.serverCommand(SERVER_LAST_CONTEXT_COMMAND);
    if (report === undefined) {
      void vscode.window.showWarningMessage('nanopilot: the server is not running.');
      return;
    }
    this.log.info(`last suggestion:\n  ${formatStatusReport(report).join('\n  ')}`);
    this.showLog();
  }

  async showStatus(): Promise<void> {
    const report = await this.serverStatus();
    if (report === undefined) {
      void vscode.window.showWarningMessage('nanopilot: the server is not running.');
      return;
    }
    this.log.info(`status:\n  ${formatStatusReport(report).join('\n  ')}`);
    const summary = formatStatusReport(report, false).join(' · ');
    const choice = await vscode.window.showInformationMessage(`nanopilot: ${summary}`, 'Show Log');
    if (choice === 'Show Log') {
      this.showLog();
    }
  }

  onDidChangeConfiguration(event: vscode.ConfigurationChangeEvent): void {
    if (!event.affectsConfiguration(SECTION)) {
      return;
    }
    const before = this.settings;
    this.settings = currentSettings();
    this.statusBar.setDisabled(this.disabledForShownDocument());
    this.resync();
    const reason = restartReason(before, this.settings);
    if (reason !== undefined) {
      this.log.info(`${reason}: restarting the server`);
      void this.restart();
    } else if (this.client?.isRunning()) {
      this.client
        .sendNotification(DidChangeConfigurationNotification.type, {
          settings: { [SECTION]: this.serverSettings() },
        })
        .catch((error: unknown) =>
          this.log.error(`sending settings failed: ${errorMessage(error)}`),
        );
    }
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(task, task);
    return this.queue;
  }

  private disabledForShownDocument(): Disabled | undefined {
    if (this.shownDocument === undefined) {
      return this.settings.enable ? undefined : { by: 'enable' };
    }
    return whyDisabled(this.settings, documentInfo(this.shownDocument));
  }

  private excluded(document: vscode.TextDocument): boolean {
    return matchingGlob(this.settings.exclude, documentInfo(document)) !== undefined;
  }

  /** Whether to ask the server for completions in the document. */
  private completesIn(document: vscode.TextDocument): boolean {
    return (
      this.gate.passes(document.uri.toString()) &&
      completionEnabled(this.settings, documentInfo(document))
    );
  }

  /**
   * The exclude globs may have changed: opens to the running server the files they no longer
   * match and closes those they now match. (A client that is still starting opens every document
   * through the middleware, with the settings of that moment.)
   */
  private resync(): void {
    const client = this.client;
    if (!client?.isRunning()) {
      return;
    }
    const convert = client.code2ProtocolConverter;
    const failed = (error: unknown) =>
      this.log.error(`updating the server's documents failed: ${errorMessage(error)}`);
    for (const document of vscode.workspace.textDocuments.filter(inSelector)) {
      const change = this.gate.update(document.uri.toString(), this.excluded(document));
      if (change === 'open') {
        const params = convert.asOpenTextDocumentParams(document);
        client.sendNotification(DidOpenTextDocumentNotification.type, params).catch(failed);
      } else if (change === 'close') {
        const params = convert.asCloseTextDocumentParams(document);
        client.sendNotification(DidCloseTextDocumentNotification.type, params).catch(failed);
      }
    }
  }

  private serverSettings(): ServerSettings {
    return toServerSettings(this.settings, workspaceFolder());
  }

  private async doStart(): Promise<void> {
    if (this.client?.isRunning()) {
      return;
    }
    await this.doStop(); // a client left stopped by crashes or a failed start
    const python = await this.interpreter();
    if (python === undefined) {
      return;
    }
    this.statusBar.setState({ kind: 'starting' });
    const check = await checkPython(python, { cwd: this.extensionPath, env: process.env });
    if (!check.ok) {
      this.fail(describeProblem(check, python));
      return;
    }
    this.log.info(`starting ${python} -m server --stdio (Python ${check.pythonVersion})`);
    const client = this.createClient(python);
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      const reason = client.stderr.lastError() ?? errorMessage(error);
      this.fail(`nanopilot: the server did not start: ${reason}. See the log.`);
    }
  }

  /** The user's interpreter, else the managed one (upgraded if needed); undefined: none yet. */
  private async interpreter(): Promise<string | undefined> {
    const chosen = pythonCommand(this.settings, workspaceFolder());
    if (chosen !== undefined) {
      return chosen;
    }
    const prepared = await this.environment.prepare(pythonExtras(this.settings));
    if (prepared.kind === 'ready') {
      return prepared.python;
    }
    if (prepared.kind === 'missing') {
      this.offerSetup();
    }
    return undefined;
  }

  private offerSetup(): void {
    this.statusBar.setState({ kind: 'needs-setup' });
    if (this.setupOffered) {
      return;
    }
    this.setupOffered = true;
    void vscode.window
      .showInformationMessage(
        'nanopilot needs a Python environment to run its completion server.',
        SET_UP,
        CHOOSE_INTERPRETER,
      )
      .then((choice) => {
        if (choice === SET_UP) {
          void this.setUp();
        } else if (choice === CHOOSE_INTERPRETER) {
          void this.chooseInterpreter();
        }
      });
  }

  /** The user picks a Python that has nanopilot; the setting's change restarts the server. */
  private async chooseInterpreter(): Promise<void> {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Use this Python',
      title: 'Python interpreter with nanopilot installed',
    });
    if (picked?.[0]) {
      await vscode.workspace
        .getConfiguration(SECTION)
        .update('pythonPath', picked[0].fsPath, vscode.ConfigurationTarget.Global);
    }
  }

  /**
   * Retry after a failed upgrade restarts, which tries the upgrade again; a new set-up would
   * first remove the environment the failed upgrade kept.
   */
  private setupFailed(message: string, kind: 'create' | 'upgrade'): void {
    this.log.error(message);
    this.statusBar.setState({ kind: 'error', message });
    void vscode.window.showErrorMessage(message, RETRY, SHOW_LOG).then((choice) => {
      if (choice === RETRY) {
        void (kind === 'upgrade' ? this.restart() : this.setUp());
      } else if (choice === SHOW_LOG) {
        this.showLog();
      }
    });
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.dispose(5000);
      } catch (error) {
        this.log.warn(`stopping the server: ${errorMessage(error)}`);
      }
    }
    this.statusBar.setState({ kind: 'stopped' });
  }

  private createClient(python: string): ServerClient {
    const gate = new SyncGate();
    this.gate = gate;
    const uri = (document: vscode.TextDocument) => document.uri.toString();
    const options: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      initializationOptions: { [SECTION]: this.serverSettings() },
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      errorHandler: {
        error: (_error, _message, count): ErrorHandlerResult => ({
          action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
        }),
        closed: (): CloseHandlerResult => this.onServerClosed(),
      },
      middleware: {
        provideInlineCompletionItems: (document, position, context, token, next) =>
          this.completesIn(document) ? next(document, position, context, token) : undefined,
        provideCompletionItem: (document, position, context, token, next) =>
          this.completesIn(document) ? next(document, position, context, token) : undefined,
        didOpen: async (document, next) => {
          if (gate.open(uri(document), this.excluded(document))) {
            await next(document);
          }
        },
        didChange: async (event, next) => {
          if (gate.passes(uri(event.document))) {
            await next(event);
          }
        },
        didSave: async (document, next) => {
          if (gate.passes(uri(document))) {
            await next(document);
          }
        },
        didClose: async (document, next) => {
          if (gate.close(uri(document))) {
            await next(document);
          }
        },
        workspace: {
          configuration: async (params: ConfigurationParams, token, next) => {
            const answers: unknown[] | ResponseError = await next(params, token);
            if (answers instanceof ResponseError) {
              return answers;
            }
            return params.items.map((item, index) =>
              item.section === SECTION ? this.serverSettings() : answers[index],
            );
          },
        },
      },
    };
    // Not the workspace as working directory: `-m` puts it first on sys.path, and a user's own
    // folder named `server` would shadow ours.
    const client = new ServerClient(python, this.extensionPath, this.log, options);
    client.registerFeature(new StatusProgressFeature(client, (value) => this.onProgress(value)));
    // A remote engine stopped or started answering: the server sends its status report.
    client.onNotification(SERVER_STATUS_NOTIFICATION, (report: unknown) => {
      this.statusBar.setState(stateFromReport(report));
    });
    client.onDidChangeState(({ newState }) => {
      if (newState === State.Starting) {
        this.initialized = false;
        client.stderr.clear();
        this.statusBar.setState({ kind: 'starting' });
      } else if (newState === State.Running) {
        this.initialized = true;
        // The model loads in the background after initialize; progress reports say when it is done.
        this.statusBar.setState({ kind: 'loading' });
      }
    });
    return client;
  }

  /** The server's `nanopilot.status` answer; undefined when it is not running. */
  private async serverStatus(): Promise<unknown> {
    return this.serverCommand(SERVER_STATUS_COMMAND);
  }

  private async serverCommand(command: string): Promise<unknown> {
    if (!this.client?.isRunning()) {
      return undefined;
    }
    return this.client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [] });
  }

  /** Loading ended, well or not (a missing model): the server's status says which. */
  private async settleAfterLoading(message: string | undefined): Promise<void> {
    let report: unknown;
    try {
      report = await this.serverStatus();
    } catch (error) {
      this.log.warn(`nanopilot.status failed: ${errorMessage(error)}`);
    }
    this.statusBar.setState(stateFromReport(report, message));
  }

  private onProgress(value: ProgressValue): void {
    if (value.kind === 'end') {
      void this.settleAfterLoading(value.message);
      return;
    }
    const title = value.kind === 'begin' ? value.title : undefined;
    const message = [title, value.message].filter(Boolean).join(': ') || undefined;
    this.statusBar.setState({ kind: 'loading', message, percentage: value.percentage });
  }

  private onServerClosed(): CloseHandlerResult {
    if (!this.initialized) {
      // It died while starting: starting it again would fail the same way. doStart reports it.
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    if (this.restarts.shouldRestart()) {
      this.log.warn('the server stopped unexpectedly; restarting it');
      return { action: CloseAction.Restart, handled: true };
    }
    const minutes = this.restarts.windowMs / 60_000;
    this.fail(
      `nanopilot: the server stopped ${this.restarts.maxRestarts + 1} times in ` +
        `${minutes} minutes and will not be restarted. ` +
        'See the log, then run "nanopilot: Restart Server".',
    );
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  private fail(message: string): void {
    this.log.error(message);
    this.statusBar.setState({ kind: 'error', message });
    void vscode.window.showErrorMessage(message, SHOW_LOG, 'Open Settings').then((choice) => {
      if (choice === SHOW_LOG) {
        this.showLog();
      } else if (choice === 'Open Settings') {
        void vscode.commands.executeCommand('workbench.action.openSettings', SECTION);
      }
    });
  }
}
