import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SyncGate } from '../syncGate';

const SECRET = 'file:///work/app/secrets/keys.py';
const MAIN = 'file:///work/app/main.py';

describe('SyncGate', () => {
  it('passes every notification of a document no glob excludes', () => {
    const gate = new SyncGate();
    assert.equal(gate.open(MAIN, false), true);
    assert.equal(gate.passes(MAIN), true);
    assert.equal(gate.close(MAIN), true);
  });

  it('withholds an excluded document from its open to its close, and forgets it then', () => {
    const gate = new SyncGate();
    assert.equal(gate.open(SECRET, true), false);
    assert.equal(gate.passes(SECRET), false);
    assert.equal(gate.passes(MAIN), true);
    assert.equal(gate.close(SECRET), false);
    // Opened again once the glob is gone: the server gets it.
    assert.equal(gate.open(SECRET, false), true);
    assert.equal(gate.passes(SECRET), true);
  });

  it('opens a document to the server when its glob goes, and closes it when one comes', () => {
    const gate = new SyncGate();
    gate.open(SECRET, true);
    gate.open(MAIN, false);
    assert.equal(gate.update(SECRET, false), 'open');
    assert.equal(gate.passes(SECRET), true);
    assert.equal(gate.update(MAIN, true), 'close');
    assert.equal(gate.passes(MAIN), false);
    // The server already forgot it: its real close is not sent again.
    assert.equal(gate.close(MAIN), false);
  });

  it('changes nothing when the exclusion stays as it was', () => {
    const gate = new SyncGate();
    gate.open(SECRET, true);
    gate.open(MAIN, false);
    assert.equal(gate.update(SECRET, true), undefined);
    assert.equal(gate.update(MAIN, false), undefined);
  });
});
