import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { StderrTail } from '../stderrTail';

describe('StderrTail', () => {
  it("finds a Python traceback's error line", () => {
    const tail = new StderrTail();
    for (const line of [
      'Traceback (most recent call last):',
      '  File "<frozen runpy>", line 198, in _run_module_as_main',
      "ModuleNotFoundError: No module named 'torch'",
      '',
    ]) {
      tail.push(line);
    }
    assert.equal(tail.lastError(), "ModuleNotFoundError: No module named 'torch'");
  });

  it('keeps only the last lines, and forgets them on clear', () => {
    const tail = new StderrTail(2);
    ['ValueError: old', '', ''].forEach((line) => tail.push(line));
    assert.equal(tail.lastError(), undefined);
    tail.push('ValueError: new');
    assert.equal(tail.lastError(), 'ValueError: new');
    tail.clear();
    assert.equal(tail.lastError(), undefined);
  });
});
