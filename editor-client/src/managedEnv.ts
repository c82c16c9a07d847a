/**
 * The Python environment the extension manages in its global storage, used when
 * `nanopilot.pythonPath` is not set: where it lives, whether it holds the bundled wheel, and the
 * commands that create or upgrade it.
 *
 * A marker file written after the last install step is the environment's commit point: a folder
 * without it is a half-made environment (an interrupted set-up) and counts as missing.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

import type { BundledWheel } from './bundledWheel';
import type { PythonCommand } from './pythonFinder';

/** As scripts/setup: the CPU wheel, first; unpinned, pip would pull a multi-GB CUDA build. */
export const TORCH_REQUIREMENT = 'torch==2.13.0';

export interface EnvLayout {
  dir: string;
  python: string;
  marker: string;
}

/** What the marker records: the wheel the environment was last set up with, and its extras. */
export interface EnvMarker {
  wheel: string;
  sha256: string;
  /** nanopilot's optional extras installed with it (`onnx`); none in markers older than extras. */
  extras: string[];
}

/**
 * `missing`: set it up; `outdated`: the extension brought another wheel, or the settings need an
 * extra the environment lacks: upgrade it.
 */
export type EnvState = 'missing' | 'current' | 'outdated';

/** The managed interpreter when it is ready; `missing`: the user has to accept a set-up first. */
export type Prepared = { kind: 'ready'; python: string } | { kind: 'missing' } | { kind: 'failed' };

export interface InstallStep {
  title: string;
  command: string;
  args: string[];
}

export function envLayout(
  storageDir: string,
  platform: NodeJS.Platform = process.platform,
): EnvLayout {
  const dir = path.join(storageDir, 'python-env');
  const python =
    platform === 'win32'
      ? path.join(dir, 'Scripts', 'python.exe')
      : path.join(dir, 'bin', 'python');
  return { dir, python, marker: path.join(dir, 'nanopilot-env.json') };
}

export function markerFor(wheel: BundledWheel, extras: readonly string[] = []): EnvMarker {
  return { wheel: path.basename(wheel.path), sha256: wheel.sha256, extras: [...extras].sort() };
}

/**
 * Extras the environment has but the settings no longer need do not make it outdated: they only
 * take disk space, and switching back needs no new set-up.
 */
export function envState(
  marker: EnvMarker | undefined,
  wheel: BundledWheel,
  extras: readonly string[] = [],
): EnvState {
  if (marker === undefined) {
    return 'missing';
  }
  const hasExtras = extras.every((extra) => marker.extras.includes(extra));
  return marker.sha256 === wheel.sha256 && hasExtras ? 'current' : 'outdated';
}

/** The marker, or undefined when there is none or it is not one of ours. */
export function readMarker(layout: EnvLayout): EnvMarker | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(layout.marker, 'utf8'));
    const fields = value as Partial<Record<keyof EnvMarker, unknown>> | null;
    if (typeof fields?.wheel !== 'string' || typeof fields.sha256 !== 'string') {
      return undefined;
    }
    // A marker from before extras were recorded: an environment without any.
    const extras = Array.isArray(fields.extras)
      ? fields.extras.filter((extra): extra is string => typeof extra === 'string')
      : [];
    return { wheel: fields.wheel, sha256: fields.sha256, extras };
  } catch {
    return undefined;
  }
}

export function writeMarker(
  layout: EnvLayout,
  wheel: BundledWheel,
  extras: readonly string[] = [],
): void {
  writeFileSync(layout.marker, JSON.stringify(markerFor(wheel, extras), null, 2));
}

/**
 * The interpreter to start from the environment in `layout`, calling `upgrade` (with why) once
 * when it is outdated. Ready after the upgrade whether it succeeded or not: a failed upgrade
 * keeps the environment that worked (envInstaller), and the server started with it says what it
 * lacks. It is not retried here: the marker still says outdated, so the next start tries again.
 */
export async function prepareEnvironment(
  layout: EnvLayout,
  wheel: BundledWheel,
  extras: readonly string[],
  upgrade: (why: string) => Promise<boolean>,
): Promise<Prepared> {
  // An interpreter removed behind our back makes the environment missing, whatever the marker.
  const marker = existsSync(layout.python) ? readMarker(layout) : undefined;
  switch (envState(marker, wheel, extras)) {
    case 'current':
      return { kind: 'ready', python: layout.python };
    case 'missing':
      return { kind: 'missing' };
    case 'outdated':
      await upgrade(
        marker?.sha256 !== wheel.sha256
          ? `the extension brought a new nanopilot (${wheel.path})`
          : `the settings need nanopilot[${[...extras].sort().join(',')}]`,
      );
      return { kind: 'ready', python: layout.python };
  }
}

/** What pip installs for the wheel: `/path/nanopilot-X.whl[onnx]` brings the extra's packages. */
export function wheelRequirement(wheelPath: string, extras: readonly string[] = []): string {
  return extras.length === 0 ? wheelPath : `${wheelPath}[${[...extras].sort().join(',')}]`;
}

/**
 * The commands, in order. A new environment: venv, torch, nanopilot with its dependencies. An
 * upgrade: the same installs into the existing venv (torch stays if it is there; new dependencies
 * come in), then the bundled nanopilot itself is reinstalled, since a rebuilt wheel may carry the
 * version number of the one it replaces. `extras` (nanopilot's optional dependencies, e.g. `onnx`)
 * come with the wheel's own install.
 */
export function installSteps(
  kind: 'create' | 'upgrade',
  layout: EnvLayout,
  wheelPath: string,
  extras: readonly string[],
  base?: PythonCommand,
): InstallStep[] {
  const pip = (...args: string[]) => [
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    ...args,
  ];
  const steps: InstallStep[] = [];
  if (kind === 'create') {
    if (!base) {
      throw new Error('creating an environment needs a base Python');
    }
    steps.push({
      title: 'creating a virtual environment',
      command: base.command,
      args: [...base.args, '-m', 'venv', layout.dir],
    });
  }
  steps.push(
    { title: 'installing torch (CPU)', command: layout.python, args: pip(TORCH_REQUIREMENT) },
    {
      title:
        extras.length === 0
          ? 'installing nanopilot and its dependencies'
          : `installing nanopilot[${[...extras].sort().join(',')}] and its dependencies`,
      command: layout.python,
      args: pip(wheelRequirement(wheelPath, extras)),
    },
  );
  if (kind === 'upgrade') {
    steps.push({
      title: 'installing the new nanopilot',
      command: layout.python,
      args: pip('--force-reinstall', '--no-deps', wheelPath),
    });
  }
  return steps;
}
