/**
 * The language client for `python -m server`, adjusted in two ways for this extension:
 *
 * - it never shows notifications of its own: its errors go to the log, and the controller shows
 *   one notification that says what to do (several popups for one cause help nobody);
 * - the server's stderr goes to the log line by line and the last lines are kept, so that a
 *   server that dies while starting can be reported with its own error message.
 */

import * as readline from 'node:readline';

import type * as vscode from 'vscode';
import {
  type Executable,
  LanguageClient,
  type LanguageClientOptions,
} from 'vscode-languageclient/node';

import { StderrTail } from './stderrTail';

export class ServerClient extends LanguageClient {
  /** The server's last stderr lines since it was started. */
  readonly stderr: StderrTail;

  constructor(
    python: string,
    cwd: string,
    log: vscode.LogOutputChannel,
    options: LanguageClientOptions,
  ) {
    const stderr = new StderrTail();
    const server: Executable = {
      command: python,
      args: ['-m', 'server', '--stdio'],
      options: { cwd, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const lines = (input: NodeJS.ReadableStream, onLine: (line: string) => void) =>
      readline.createInterface({ input, crlfDelay: Infinity, terminal: false }).on('line', onLine);
    super('nanopilot', 'nanopilot', server, {
      ...options,
      outputChannel: log,
      stdioOptions: {
        // Over stdio, stdout carries the protocol: this handler only serves other transports.
        stdout: (input) => lines(input, (line) => log.warn(`server stdout: ${line}`)),
        stderr: (input) =>
          lines(input, (line) => {
            stderr.push(line);
            log.info(`server: ${line}`);
          }),
      },
    });
    this.stderr = stderr;
  }

  override error(message: string, data?: unknown): void {
    super.error(message, data, false);
  }
}
