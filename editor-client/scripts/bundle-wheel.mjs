// Builds the nanopilot wheel from this checkout into dist/wheel/, where `vsce package` picks it up
// (.vscodeignore lets it in): the extension installs it into the Python environment it manages.
//
//   node scripts/bundle-wheel.mjs        (run by `npm run package`)
//
// The Python that builds it: $PYTHON, else the checkout's .venv (bash scripts/setup), else python3.
// It needs only pip; setuptools comes from the package registry in pip's isolated build.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';

const client = path.resolve(import.meta.dirname, '..');
const repo = path.dirname(client);
const out = path.join(client, 'dist', 'wheel');
const venvPython = path.join(repo, '.venv', 'bin', 'python');
const python = process.env.PYTHON || (existsSync(venvPython) ? venvPython : 'python3');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = spawnSync(
  python,
  ['-m', 'pip', 'wheel', repo, '--no-deps', '--disable-pip-version-check', '-q', '-w', out],
  { stdio: 'inherit' },
);
if (result.error || result.status !== 0) {
  console.error(
    `error: building the nanopilot wheel with ${python} failed (${result.error?.message ?? `exit ${result.status}`}); ` +
      'run `bash scripts/setup` in the checkout or set PYTHON to a Python 3.10+ with pip',
  );
  process.exit(1);
}
console.log(`bundled ${readdirSync(out).join(', ')} into ${path.relative(client, out)}`);
