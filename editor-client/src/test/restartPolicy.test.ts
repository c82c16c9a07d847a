import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { RestartPolicy } from '../restartPolicy';

describe('RestartPolicy', () => {
  it('restarts a few times, then gives up', () => {
    const policy = new RestartPolicy(3, 1000, () => 0);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => policy.shouldRestart()),
      [true, true, true, false, false],
    );
  });

  it('forgets crashes older than the window', () => {
    let now = 0;
    const policy = new RestartPolicy(1, 1000, () => now);
    assert.equal(policy.shouldRestart(), true);
    now = 500;
    assert.equal(policy.shouldRestart(), false);
    now = 1600;
    assert.equal(policy.shouldRestart(), true);
  });

  it('starts afresh after reset (the user asked for a restart)', () => {
    const policy = new RestartPolicy(1, 1000, () => 0);
    policy.shouldRestart();
    assert.equal(policy.shouldRestart(), false);
    policy.reset();
    assert.equal(policy.shouldRestart(), true);
  });
});
