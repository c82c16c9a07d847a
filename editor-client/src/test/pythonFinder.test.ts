import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  candidates,
  findPython,
  isSupportedVersion,
  type ProbeResult,
  type PythonCommand,
  probePython,
} from '../pythonFinder';

/** A probe answering from a table, as the machine's Pythons would. */
function fakeProbe(answers: Record<string, ProbeResult>) {
  return (python: PythonCommand) =>
    Promise.resolve(answers[python.command] ?? { error: 'not found' });
}

const commands = (...names: string[]) => names.map((command) => ({ command, args: [] }));

describe('isSupportedVersion', () => {
  it('accepts 3.10 and newer only', () => {
    assert.equal(isSupportedVersion('3.10.0'), true);
    assert.equal(isSupportedVersion('3.13.1'), true);
    assert.equal(isSupportedVersion('4.0'), true);
    assert.equal(isSupportedVersion('3.9.18'), false);
    assert.equal(isSupportedVersion('2.7.18'), false);
    assert.equal(isSupportedVersion(''), false);
  });
});

describe('candidates', () => {
  it("starts with the user's python3, and with the launcher on Windows", () => {
    assert.equal(candidates('linux')[0].command, 'python3');
    assert.deepEqual(candidates('win32')[0], { command: 'py', args: ['-3'] });
  });
});

describe('findPython', () => {
  it('takes the first candidate that is new enough and has venv', async () => {
    const result = await findPython(
      commands('python3', 'python', 'python3.12', 'python3.11'),
      fakeProbe({
        python3: { version: '3.9.2', hasVenv: true },
        python: { version: '3.12.1', hasVenv: false },
        'python3.12': { version: '3.12.1', hasVenv: true },
        'python3.11': { version: '3.11.7', hasVenv: true },
      }),
    );
    assert.deepEqual(result, {
      ok: true,
      python: { command: 'python3.12', args: [], version: '3.12.1' },
    });
  });

  it('says for every candidate why it was not good enough', async () => {
    const result = await findPython(
      commands('python3', 'python', 'python3.13'),
      fakeProbe({
        python3: { version: '3.8.10', hasVenv: true },
        python: { version: '3.11.2', hasVenv: false },
      }),
    );
    assert.deepEqual(result, {
      ok: false,
      tried: [
        'python3: Python 3.8.10 is older than 3.10',
        'python: Python 3.11.2 has no venv module (install python3-venv)',
        'python3.13: not found',
      ],
    });
  });

  it('probes a real interpreter (python3 on PATH unless PYTHON says otherwise)', async () => {
    const result = await probePython({ command: process.env.PYTHON ?? 'python3', args: [] });
    assert.ok('version' in result && isSupportedVersion(result.version), JSON.stringify(result));
    assert.deepEqual(await probePython({ command: '/nonexistent/python3', args: [] }), {
      error: 'not found',
    });
  });
});
