/**
 * The nanopilot wheel inside the .vsix (`dist/wheel/`, put there by `npm run package`): what the
 * managed environment installs, and, by its content hash, how the extension tells that an
 * upgrade brought a different one.
 */

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export const WHEEL_DIR = path.join('dist', 'wheel');

export interface BundledWheel {
  path: string;
  /** sha256 of the file: a rebuilt wheel of the same version still counts as new. */
  sha256: string;
}

/** The one nanopilot wheel among `names`, or why there is none to use. */
export function pickWheel(names: string[]): { name: string } | { error: string } {
  const wheels = names.filter((name) => /^nanopilot-.+\.whl$/.test(name));
  if (wheels.length === 1) {
    return { name: wheels[0] };
  }
  return {
    error:
      wheels.length === 0
        ? 'the extension package has no nanopilot wheel'
        : `the extension package has ${wheels.length} nanopilot wheels (${wheels.join(', ')})`,
  };
}

/** Reads the bundled wheel from the installed extension's folder; throws a readable Error. */
export function findBundledWheel(extensionPath: string): BundledWheel {
  const dir = path.join(extensionPath, WHEEL_DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    names = [];
  }
  const picked = pickWheel(names);
  if ('error' in picked) {
    throw new Error(`${picked.error} in ${dir}; reinstall the extension from its .vsix`);
  }
  const file = path.join(dir, picked.name);
  return { path: file, sha256: createHash('sha256').update(readFileSync(file)).digest('hex') };
}
