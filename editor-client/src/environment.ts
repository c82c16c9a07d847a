/**
 * The managed environment as the user meets it: a set-up with its progress in a notification, an
 * automatic upgrade when the extension brings a new wheel, and failures that say which step failed
 * (the controller shows them with Retry and Show Log). The decisions live in the pure modules
 * (pythonFinder, managedEnv, bundledWheel); this one runs them under VS Code's progress UI.
 */

import { existsSync } from 'node:fs';

import * as vscode from 'vscode';

import { findBundledWheel } from './bundledWheel';
import { installEnvironment, SetupError } from './envInstaller';
import { type EnvLayout, envLayout, envState, installSteps, readMarker } from './managedEnv';
import { describeCommand, findPython, MIN_PYTHON, type PythonCommand } from './pythonFinder';

/** The managed interpreter when it is ready; `missing`: the user has to accept a set-up first. */
export type Prepared = { kind: 'ready'; python: string } | { kind: 'missing' } | { kind: 'failed' };

export interface EnvironmentEvents {
  /** What the set-up is doing now (also shown in the progress notification). */
  progress(message: string): void;
  /** The set-up or upgrade failed: one line saying what failed and why. */
  failed(message: string): void;
}

export class ManagedEnvironment {
  private readonly layout: EnvLayout;

  constructor(
    storageDir: string,
    private readonly extensionPath: string,
    private readonly log: vscode.LogOutputChannel,
    private readonly events: EnvironmentEvents,
  ) {
    this.layout = envLayout(storageDir);
  }

  /**
   * The interpreter to start, upgrading the environment first when the bundled wheel changed or
   * it lacks one of `extras` (settings.ts pythonExtras: `onnx` for the onnx decoder).
   */
  async prepare(extras: readonly string[]): Promise<Prepared> {
    const wheel = this.bundledWheel();
    if (!wheel) {
      return { kind: 'failed' };
    }
    // An interpreter removed behind our back makes the environment missing, whatever the marker.
    const marker = existsSync(this.layout.python) ? readMarker(this.layout) : undefined;
    switch (envState(marker, wheel, extras)) {
      case 'current':
        return { kind: 'ready', python: this.layout.python };
      case 'missing':
        return { kind: 'missing' };
      case 'outdated':
        this.log.info(
          marker?.sha256 !== wheel.sha256
            ? `the extension brought a new nanopilot (${wheel.path}): upgrading`
            : `the settings need nanopilot[${extras.join(',')}]: upgrading`,
        );
        return (await this.install('upgrade', extras)) ? this.prepare(extras) : { kind: 'failed' };
    }
  }

  /** Creates the environment from scratch with a Python found on the machine, with `extras`. */
  async setUp(extras: readonly string[]): Promise<boolean> {
    const found = await findPython();
    if (!found.ok) {
      this.log.error(`no usable Python:\n  ${found.tried.join('\n  ')}`);
      this.failed(
        `no Python ${MIN_PYTHON.join('.')} or newer with its venv module was found ` +
          `(tried ${found.tried.length} commands, see the log). Install one, then retry, or ` +
          'set "nanopilot.pythonPath" to an interpreter that has nanopilot installed',
      );
      return false;
    }
    this.log.info(
      `setting up ${this.layout.dir} with ${describeCommand(found.python)} ` +
        `(Python ${found.python.version})`,
    );
    return this.install('create', extras, found.python);
  }

  private bundledWheel() {
    try {
      return findBundledWheel(this.extensionPath);
    } catch (error) {
      this.failed(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }

  private async install(
    kind: 'create' | 'upgrade',
    extras: readonly string[],
    base?: PythonCommand,
  ): Promise<boolean> {
    const wheel = this.bundledWheel();
    if (!wheel) {
      return false;
    }
    const steps = installSteps(kind, this.layout, wheel.path, extras, base);
    const title = kind === 'create' ? 'nanopilot: setting up Python' : 'nanopilot: upgrading';
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title },
        (progress) =>
          installEnvironment(kind, steps, this.layout, wheel, extras, {
            progress: (message) => {
              progress.report({ message });
              this.events.progress(message);
            },
            log: (line) => this.log.info(line),
          }),
      );
    } catch (error) {
      this.failed(
        error instanceof SetupError
          ? `${error.step} failed (${error.detail}); the unfinished environment was removed`
          : String(error),
      );
      return false;
    }
    this.log.info(`the Python environment is ready: ${this.layout.python}`);
    return true;
  }

  private failed(reason: string): void {
    this.events.failed(`nanopilot: setting up Python: ${reason}.`);
  }
}
