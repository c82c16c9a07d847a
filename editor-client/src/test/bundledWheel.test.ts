import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { findBundledWheel, pickWheel, WHEEL_DIR } from '../bundledWheel';

describe('pickWheel', () => {
  it('picks the one nanopilot wheel', () => {
    assert.deepEqual(pickWheel(['README.md', 'nanopilot-0.1.0-py3-none-any.whl']), {
      name: 'nanopilot-0.1.0-py3-none-any.whl',
    });
  });

  it('refuses none or several', () => {
    assert.deepEqual(pickWheel(['torch-2.13.0.whl']), {
      error: 'the extension package has no nanopilot wheel',
    });
    const two = pickWheel(['nanopilot-0.1.0-py3-none-any.whl', 'nanopilot-0.2.0-py3-none-any.whl']);
    assert.ok('error' in two && /has 2 nanopilot wheels/.test(two.error));
  });
});

describe('findBundledWheel', () => {
  it('reads the wheel from the extension folder with its hash', () => {
    const extension = mkdtempSync(path.join(os.tmpdir(), 'nanopilot-ext-'));
    mkdirSync(path.join(extension, WHEEL_DIR), { recursive: true });
    const file = path.join(extension, WHEEL_DIR, 'nanopilot-0.1.0-py3-none-any.whl');
    writeFileSync(file, 'wheel bytes');
    assert.deepEqual(findBundledWheel(extension), {
      path: file,
      sha256: createHash('sha256').update('wheel bytes').digest('hex'),
    });
  });

  it('says to reinstall the extension when the wheel is missing', () => {
    const extension = mkdtempSync(path.join(os.tmpdir(), 'nanopilot-ext-'));
    assert.throws(
      () => findBundledWheel(extension),
      /no nanopilot wheel .* reinstall the extension/,
    );
  });
});
