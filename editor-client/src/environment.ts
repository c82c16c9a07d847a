/**
 * The managed environment as the user meets it: a set-up with its progress in a notification, an
 * automatic upgrade when the extension brings a new wheel, and failures that say which step failed
 * (the controller shows them with Retry and Show Log). The decisions live in the pure modules
 * (pythonFinder, managedEnv, bundledWheel); this one runs them under VS Code's progress UI.
 */

import * as vscode from 'vscode';

import { findBundledWheel } from './bundledWheel';
import { installEnvironment, SetupError } from './envInstaller';
import {
  type EnvLayout,
  envLayout,
  installSteps,
  type Prepared,
  prepareEnvironment,
} from './managedEnv';
import { describeCommand, findPython, MIN_PYTHON, type PythonCommand } from './pythonFinder';

export type { Prepared };

export interface EnvironmentEvents {
  /** What the set-up is doing now (also shown in the progress notification). */
  progress(message: string): void;
  /**
   * The set-up or upgrade failed: one line saying what failed and why. `kind` says what a retry
   * is: a new set-up, or a start that tries the upgrade again on the environment that was kept.
   */
  failed(message: string, kind: 'create' | 'upgrade'): void;
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
   * it lacks one of `extras` (settings.ts pythonExtras: `onnx` for the onnx decoder). A failed
   * upgrade is shown once, and the environment it kept is started as it is.
   */
  async prepare(extras: readonly string[]): Promise<Prepared> {
    const wheel = this.bundledWheel();
    if (!wheel) {
      return { kind: 'failed' };
    }
    return prepareEnvironment(this.layout, wheel, extras, (why) => {
      this.log.info(`${why}: upgrading`);
      return this.install('upgrade', extras);
    });
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
      this.failed(failureReason(kind, error), kind);
      return false;
    }
    this.log.info(`the Python environment is ready: ${this.layout.python}`);
    return true;
  }

  private failed(reason: string, kind: 'create' | 'upgrade' = 'create'): void {
    const what = kind === 'create' ? 'setting up Python' : 'upgrading the Python environment';
    this.events.failed(`nanopilot: ${what}: ${reason}.`, kind);
  }
}

/** The failed step and pip's words, and what became of the environment (envInstaller). */
function failureReason(kind: 'create' | 'upgrade', error: unknown): string {
  if (!(error instanceof SetupError)) {
    return String(error);
  }
  const outcome =
    kind === 'create'
      ? 'the unfinished environment was removed'
      : 'the environment was kept as it was, and the next start tries the upgrade again';
  return `${error.step} failed (${error.detail}); ${outcome}`;
}
