/**
 * The Python environment the extension manages in its global storage, used when
 * `nanopilot.pythonPath` is not set: where it lives, whether it holds the bundled wheel, and the
 * commands that create or upgrade it.
 *
 * A marker file written after the last install step is the environment's commit point: a folder
 * without it is a half-made environment (an interrupted set-up) and counts as missing.
 */

import { readFileSync, writeFileSync } from 'node:fs';
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

/** What the marker records: the wheel the environment was last set up with. */
export interface EnvMarker {
  wheel: string;
  sha256: string;
}

/** `missing`: set it up; `outdated`: the extension brought another wheel, upgrade it. */
export type EnvState = 'missing' | 'current' | 'outdated';

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

export function markerFor(wheel: BundledWheel): EnvMarker {
  return { wheel: path.basename(wheel.path), sha256: wheel.sha256 };
}

export function envState(marker: EnvMarker | undefined, wheel: BundledWheel): EnvState {
  if (marker === undefined) {
    return 'missing';
  }
  return marker.sha256 === wheel.sha256 ? 'current' : 'outdated';
}

/** The marker, or undefined when there is none or it is not one of ours. */
export function readMarker(layout: EnvLayout): EnvMarker | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(layout.marker, 'utf8'));
    const fields = value as Partial<EnvMarker> | null;
    return typeof fields?.wheel === 'string' && typeof fields.sha256 === 'string'
      ? { wheel: fields.wheel, sha256: fields.sha256 }
      : undefined;
  } catch {
    return undefined;
  }
}

export function writeMarker(layout: EnvLayout, wheel: BundledWheel): void {
  writeFileSync(layout.marker, JSON.stringify(markerFor(wheel), null, 2));
}

/**
 * The commands, in order. A new environment: venv, torch, nanopilot with its dependencies. An
 * upgrade: the same installs into the existing venv (torch stays if it is there; new dependencies
 * come in), then the bundled nanopilot itself is reinstalled, since a rebuilt wheel may carry the
 * version number of the one it replaces.
 */
export function installSteps(
  kind: 'create' | 'upgrade',
  layout: EnvLayout,
  wheelPath: string,
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
      title: 'installing nanopilot and its dependencies',
      command: layout.python,
      args: pip(wheelPath),
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
