import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import {
  envLayout,
  envState,
  installSteps,
  readMarker,
  TORCH_REQUIREMENT,
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
  it('is missing without a marker, current for the same wheel, outdated for another', () => {
    assert.equal(envState(undefined, wheel), 'missing');
    assert.equal(
      envState({ wheel: 'nanopilot-0.1.0-py3-none-any.whl', sha256: 'abc' }, wheel),
      'current',
    );
    assert.equal(
      envState({ wheel: 'nanopilot-0.1.0-py3-none-any.whl', sha256: 'old' }, wheel),
      'outdated',
    );
  });
});

describe('the marker', () => {
  it('round-trips the wheel it was set up with', () => {
    const layout = freshLayout();
    assert.equal(readMarker(layout), undefined); // a folder without marker: half-made
    writeMarker(layout, wheel);
    assert.deepEqual(readMarker(layout), { wheel: path.basename(wheel.path), sha256: 'abc' });
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
    const steps = installSteps('create', layout, wheel.path, base);
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
    const steps = installSteps('upgrade', layout, wheel.path);
    assert.equal(steps.length, 3);
    assert.ok(steps.every((step) => step.command === layout.python));
    assert.deepEqual(steps[2].args.slice(-3), ['--force-reinstall', '--no-deps', wheel.path]);
  });

  it('needs a base Python to create', () => {
    assert.throws(() => installSteps('create', layout, wheel.path), /base Python/);
  });
});
