import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { checkPython, describeProblem } from '../preflight';

/** The interpreter the tests run the check with (python3 on PATH unless PYTHON says otherwise). */
const PYTHON = process.env.PYTHON ?? 'python3';

/** A folder for PYTHONPATH holding a package `server`, with or without `server/__main__.py`. */
function fakeServerPackage(withMain: boolean): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'nanopilot-preflight-'));
  mkdirSync(path.join(root, 'server'));
  writeFileSync(path.join(root, 'server', '__init__.py'), '');
  if (withMain) {
    writeFileSync(path.join(root, 'server', '__main__.py'), '');
  }
  return root;
}

function check(python: string, pythonPath?: string) {
  const env = { ...process.env, PYTHONPATH: pythonPath ?? '' };
  return checkPython(python, { cwd: os.tmpdir(), env });
}

describe('checkPython', () => {
  it('passes when the server package can be run with -m', async () => {
    const result = await check(PYTHON, fakeServerPackage(true));
    assert.equal(result.ok, true);
    assert.ok(result.ok && /^3\.\d+/.test(result.pythonVersion));
  });

  it('says the server is missing when python cannot run it', async () => {
    const result = await check(PYTHON, fakeServerPackage(false));
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.problem === 'server-missing');
    const message = describeProblem(result, PYTHON);
    assert.match(message, /cannot import the nanopilot server/);
    assert.match(message, /pip install -e/);
  });

  it('says python is missing for a path that does not exist', async () => {
    const result = await check('/nonexistent/bin/python3');
    assert.ok(!result.ok && result.problem === 'python-missing');
    assert.match(describeProblem(result, '/nonexistent/bin/python3'), /nanopilot\.pythonPath/);
  });

  it('reports a program that is not Python as failed, with its error', async () => {
    const result = await check('false');
    assert.ok(!result.ok && result.problem === 'python-failed');
  });
});
