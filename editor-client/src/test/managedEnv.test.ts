import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import {
  envLayout,
  envState,
  installSteps,
  prepareEnvironment,
  readMarker,
  TORCH_REQUIREMENT,
  wheelRequirement,
  writeMarker,
} from '../managedEnv';

const wheel = { path: '/ext/dist/wheel/nanopilot-0.1.0-py3-none-any.whl', sha256: 'abc' };

function freshLayout() {
  const layout = envLayout(mkdtempSync(path.join(os.tmpdir(), 'nanopilot-storage-')));
  mkdirSync(layout.dir);
  return layout;
}

describe('envLayout', () => {
  it('puts the venv in the storage folder, with the platform interpreter', () => {
    assert.deepEqual(envLayout('/store', 'linux'), {
      dir: '/store/python-env',
      python: '/store/python-env/bin/python',
      marker: '/store/python-env/nanopilot-env.json',
    });
    assert.match(envLayout('/store', 'win32').python, /Scripts.python\.exe$/);
  });
});

describe('envState', () => {
  const name = 'nanopilot-0.1.0-py3-none-any.whl';

  it('is missing without a marker, current for the same wheel, outdated for another', () => {
    assert.equal(envState(undefined, wheel), 'missing');
    assert.equal(envState({ wheel: name, sha256: 'abc', extras: [] }, wheel), 'current');
    assert.equal(envState({ wheel: name, sha256: 'old', extras: [] }, wheel), 'outdated');
  });

  it('is outdated when the settings need an extra it was not set up with', () => {
    assert.equal(envState(undefined, wheel, ['onnx']), 'missing');
    assert.equal(envState({ wheel: name, sha256: 'abc', extras: [] }, wheel, ['onnx']), 'outdated');
    assert.equal(
      envState({ wheel: name, sha256: 'abc', extras: ['onnx'] }, wheel, ['onnx']),
      'current',
    );
    // An extra no longer needed (back to the auto decoder) stays, no set-up again.
    assert.equal(envState({ wheel: name, sha256: 'abc', extras: ['onnx'] }, wheel), 'current');
  });
});

describe('the marker', () => {
  it('round-trips the wheel it was set up with', () => {
    const layout = freshLayout();
    assert.equal(readMarker(layout), undefined); // a folder without marker: half-made
    writeMarker(layout, wheel);
    assert.deepEqual(readMarker(layout), {
      wheel: path.basename(wheel.path),
      sha256: 'abc',
      extras: [],
    });
    writeMarker(layout, wheel, ['onnx']);
    assert.deepEqual(readMarker(layout)?.extras, ['onnx']);
  });

  it('reads a marker from before extras were recorded as one without extras', () => {
    const layout = freshLayout();
    writeFileSync(layout.marker, JSON.stringify({ wheel: 'nanopilot.whl', sha256: 'abc' }));
    assert.deepEqual(readMarker(layout), { wheel: 'nanopilot.whl', sha256: 'abc', extras: [] });
    assert.equal(envState(readMarker(layout), wheel), 'current');
    assert.equal(envState(readMarker(layout), wheel, ['onnx']), 'outdated');
  });

  it('is ignored when it is not ours', () => {
    const layout = freshLayout();
    writeFileSync(layout.marker, '{"wheel": 3}');
    assert.equal(readMarker(layout), undefined);
    writeFileSync(layout.marker, 'not json');
    assert.equal(readMarker(layout), undefined);
  });
});

describe('installSteps', () => {
  const layout = envLayout('/store', 'linux');
  const base = { command: 'py', args: ['-3'] };

  it('creates the venv, then torch first, then the wheel with its dependencies', () => {
    const steps = installSteps('create', layout, wheel.path, [], base);
    assert.deepEqual(
      steps.map((step) => [step.command, ...step.args].join(' ')),
      [
        'py -3 -m venv /store/python-env',
        `${layout.python} -m pip install --disable-pip-version-check ${TORCH_REQUIREMENT}`,
        `${layout.python} -m pip install --disable-pip-version-check ${wheel.path}`,
      ],
    );
  });

  it('upgrades in place and reinstalls the bundled nanopilot even at the same version', () => {
    const steps = installSteps('upgrade', layout, wheel.path, []);
    assert.equal(steps.length, 3);
    assert.ok(steps.every((step) => step.command === layout.python));
    assert.deepEqual(steps[2].args.slice(-3), ['--force-reinstall', '--no-deps', wheel.path]);
  });

  it("installs the wheel with its extras, so that pip brings the extras' packages", () => {
    for (const kind of ['create', 'upgrade'] as const) {
      const steps = installSteps(kind, layout, wheel.path, ['onnx'], base);
      const install = steps.find((step) => step.title.startsWith('installing nanopilot'));
      assert.equal(install?.title, 'installing nanopilot[onnx] and its dependencies');
      assert.equal(install.args.at(-1), `${wheel.path}[onnx]`);
    }
    // The forced reinstall takes no dependencies: the plain wheel.
    assert.equal(
      installSteps('upgrade', layout, wheel.path, ['onnx']).at(-1)?.args.at(-1),
      wheel.path,
    );
  });

  it('needs a base Python to create', () => {
    assert.throws(() => installSteps('create', layout, wheel.path, []), /base Python/);
  });
});

describe('wheelRequirement', () => {
  it("is the wheel's path, with the extras in brackets", () => {
    assert.equal(wheelRequirement(wheel.path), wheel.path);
    assert.equal(wheelRequirement(wheel.path, ['onnx']), `${wheel.path}[onnx]`);
    assert.equal(wheelRequirement('/w/n.whl', ['onnx', 'extra']), '/w/n.whl[extra,onnx]');
  });
});

describe('prepareEnvironment', () => {
  /** An environment with an interpreter file and a marker for `wheel` without extras. */
  function installed() {
    const layout = freshLayout();
    mkdirSync(path.dirname(layout.python), { recursive: true });
    writeFileSync(layout.python, '');
    writeMarker(layout, wheel);
    return layout;
  }

  /** An upgrade that records why it was asked for and succeeds or fails as told. */
  function upgrader(ok: boolean) {
    const calls: string[] = [];
    return {
      calls,
      upgrade: (why: string) => {
        calls.push(why);
        return Promise.resolve(ok);
      },
    };
  }

  it('is ready without an upgrade when current, missing without an interpreter', async () => {
    const layout = installed();
    const { calls, upgrade } = upgrader(true);
    assert.deepEqual(await prepareEnvironment(layout, wheel, [], upgrade), {
      kind: 'ready',
      python: layout.python,
    });
    assert.deepEqual(await prepareEnvironment(freshLayout(), wheel, [], upgrade), {
      kind: 'missing',
    });
    assert.deepEqual(calls, []);
  });

  it('upgrades for a missing extra or a new wheel, saying which', async () => {
    const layout = installed();
    const { calls, upgrade } = upgrader(true);
    await prepareEnvironment(layout, wheel, ['onnx'], upgrade);
    await prepareEnvironment(layout, { path: '/ext/new.whl', sha256: 'def' }, [], upgrade);
    assert.deepEqual(calls, [
      'the settings need nanopilot[onnx]',
      'the extension brought a new nanopilot (/ext/new.whl)',
    ]);
  });

  it('after a failed upgrade, is ready with the kept environment and does not retry', async () => {
    const layout = installed();
    const { calls, upgrade } = upgrader(false);
    assert.deepEqual(await prepareEnvironment(layout, wheel, ['onnx'], upgrade), {
      kind: 'ready',
      python: layout.python,
    });
    assert.equal(calls.length, 1);
    // Still outdated: the next start tries the upgrade again.
    assert.equal(envState(readMarker(layout), wheel, ['onnx']), 'outdated');
  });
});
