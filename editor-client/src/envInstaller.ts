/**
 * Runs the install steps of managedEnv.ts: every output line to the log, a short progress message
 * for the notification, and on failure the step and pip's own last words. A failed set-up removes
 * the environment folder, so that the next attempt starts clean instead of from a broken venv; a
 * failed upgrade keeps the environment that worked before it.
 */

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as readline from 'node:readline';

import { type EnvLayout, type InstallStep, writeMarker } from './managedEnv';
import type { BundledWheel } from './bundledWheel';
import { StderrTail } from './stderrTail';

/** A step that failed: which one, and the most telling line of its output. */
export class SetupError extends Error {
  constructor(
    readonly step: string,
    readonly detail: string,
  ) {
    super(`${step} failed: ${detail}`);
  }
}

export interface InstallReporter {
  /** Progress for the notification: the step, and what pip is doing in it. */
  progress(message: string): void;
  log(line: string): void;
}

/**
 * pip's output line -> a few words for the progress notification, or undefined for the rest.
 * "Collecting torch==2.13.0" -> "torch==2.13.0"; "Installing collected packages: a, b" -> "writing
 * 2 packages".
 */
export function pipProgress(line: string): string | undefined {
  const collecting = /^\s*Collecting (\S+)/.exec(line);
  if (collecting) {
    return collecting[1];
  }
  const installing = /^\s*Installing collected packages: (.*)$/.exec(line);
  if (installing) {
    const count = installing[1].split(',').length;
    return `writing ${count} package${count === 1 ? '' : 's'}`;
  }
  return undefined;
}

function runStep(step: InstallStep, reporter: InstallReporter): Promise<void> {
  reporter.progress(step.title);
  reporter.log(`$ ${step.command} ${step.args.join(' ')}`);
  const tail = new StderrTail();
  return new Promise((resolve, reject) => {
    const child = spawn(step.command, step.args, {
      env: { ...process.env, PYTHONUNBUFFERED: '1', PIP_NO_INPUT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onLine = (line: string) => {
      tail.push(line);
      reporter.log(line);
      const what = pipProgress(line);
      if (what) {
        reporter.progress(`${step.title}: ${what}`);
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
    }
    child.on('error', (error) => reject(new SetupError(step.title, error.message)));
    child.on('close', (code) => {
      if (code === 0) {
        resolve();
      } else {
        reject(new SetupError(step.title, tail.lastError() ?? `exit status ${code}`));
      }
    });
  });
}

/**
 * Runs `steps` into `layout`, then records `wheel` and the `extras` the steps installed in the
 * marker. A folder left by an earlier, interrupted set-up is removed first when creating; on
 * failure see afterFailure.
 */
export async function installEnvironment(
  kind: 'create' | 'upgrade',
  steps: InstallStep[],
  layout: EnvLayout,
  wheel: BundledWheel,
  extras: readonly string[],
  reporter: InstallReporter,
): Promise<void> {
  if (kind === 'create') {
    rmSync(layout.dir, { recursive: true, force: true });
  }
  try {
    for (const step of steps) {
      await runStep(step, reporter);
    }
    writeMarker(layout, wheel, extras);
  } catch (error) {
    afterFailure(kind, layout, error, reporter);
    throw error;
  }
}

/**
 * A set-up that did not finish leaves nothing worth keeping: its folder is removed. An upgrade
 * failed on an environment that worked, usually at pip's resolution, before anything changed (no
 * onnxruntime for this platform): it is kept, and the marker is left as it was, so the
 * environment stays outdated and the next start tries the upgrade again.
 */
function afterFailure(
  kind: 'create' | 'upgrade',
  layout: EnvLayout,
  error: unknown,
  reporter: InstallReporter,
): void {
  if (kind === 'create') {
    reporter.log(`removing the unfinished environment ${layout.dir}`);
    rmSync(layout.dir, { recursive: true, force: true });
    return;
  }
  const reason = error instanceof Error ? error.message : String(error);
  reporter.log(
    `upgrade failed: keeping the environment at ${layout.dir}; it worked before the upgrade, ` +
      `and the next start tries again (${reason})`,
  );
}
