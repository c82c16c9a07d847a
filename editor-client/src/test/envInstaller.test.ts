import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { installEnvironment, pipProgress, SetupError } from '../envInstaller';
import { envLayout, type InstallStep, readMarker, writeMarker } from '../managedEnv';

const wheel = { path: '/ext/nanopilot-0.1.0-py3-none-any.whl', sha256: 'abc' };

/** A step that runs a line of JavaScript with this Node. */
function node(title: string, script: string): InstallStep {
  return { title, command: process.execPath, args: ['-e', script] };
}

function recorder() {
  const progress: string[] = [];
  const log: string[] = [];
  return {
    progress,
    log,
    reporter: { progress: (m: string) => progress.push(m), log: (l: string) => log.push(l) },
  };
}

describe('pipProgress', () => {
  it("turns pip's lines into a few words", () => {
    assert.equal(pipProgress('Collecting torch==2.13.0'), 'torch==2.13.0');
    assert.equal(pipProgress('  Collecting tqdm>=4.66 (from nanopilot==0.1.0)'), 'tqdm>=4.66');
    assert.equal(pipProgress('Installing collected packages: tqdm, torch'), 'writing 2 packages');
    assert.equal(pipProgress('  Downloading tqdm-4.67.1-py3-none-any.whl (78 kB)'), undefined);
  });
});

describe('installEnvironment', () => {
  it('runs the steps, reports them and writes the marker last', async () => {
    const layout = envLayout(mkdtempSync(path.join(os.tmpdir(), 'nanopilot-storage-')));
    const { progress, log, reporter } = recorder();
    const steps = [
      node('creating', `require('fs').mkdirSync(${JSON.stringify(layout.dir)})`),
      node('installing', "console.log('Collecting torch==2.13.0')"),
    ];
    await installEnvironment('create', steps, layout, wheel, ['onnx'], reporter);
    assert.deepEqual(progress, ['creating', 'installing', 'installing: torch==2.13.0']);
    assert.ok(log.includes('Collecting torch==2.13.0'));
    assert.deepEqual(readMarker(layout), {
      wheel: path.basename(wheel.path),
      sha256: 'abc',
      extras: ['onnx'],
    });
  });

  it("removes the half-made environment and reports the failed step with pip's words", async () => {
    const layout = envLayout(mkdtempSync(path.join(os.tmpdir(), 'nanopilot-storage-')));
    const steps = [
      node('creating', `require('fs').mkdirSync(${JSON.stringify(layout.dir)})`),
      node(
        'installing torch (CPU)',
        "console.error('ERROR: No matching distribution found for torch==2.13.0'); process.exit(1)",
      ),
      node('never run', 'process.exit(0)'),
    ];
    const { progress, reporter } = recorder();
    await assert.rejects(
      installEnvironment('create', steps, layout, wheel, [], reporter),
      (error) => {
        assert.ok(error instanceof SetupError);
        assert.equal(error.step, 'installing torch (CPU)');
        assert.equal(error.detail, 'ERROR: No matching distribution found for torch==2.13.0');
        return true;
      },
    );
    assert.equal(existsSync(layout.dir), false);
    assert.ok(!progress.includes('never run'));
  });

  it('keeps the environment and its marker when an upgrade fails', async () => {
    const layout = envLayout(mkdtempSync(path.join(os.tmpdir(), 'nanopilot-storage-')));
    mkdirSync(layout.dir);
    writeMarker(layout, wheel);
    const before = readFileSync(layout.marker, 'utf8');
    const steps = [
      node('installing torch (CPU)', 'process.exit(0)'),
      node(
        'installing nanopilot[onnx] and its dependencies',
        "console.error('ERROR: No matching distribution found for onnxruntime'); process.exit(1)",
      ),
    ];
    const newWheel = { path: '/ext/nanopilot-0.2.0-py3-none-any.whl', sha256: 'def' };
    const { log, reporter } = recorder();
    await assert.rejects(
      installEnvironment('upgrade', steps, layout, newWheel, ['onnx'], reporter),
      /installing nanopilot\[onnx\] and its dependencies failed: ERROR: No matching distribution/,
    );
    assert.ok(existsSync(layout.dir));
    assert.equal(readFileSync(layout.marker, 'utf8'), before);
    assert.ok(
      log.some((line) =>
        line.startsWith(`upgrade failed: keeping the environment at ${layout.dir}; `),
      ),
    );
    assert.ok(!log.some((line) => line.startsWith('removing')));
  });

  it('removes the folder of a failed set-up even when a marker was written before', async () => {
    const layout = envLayout(mkdtempSync(path.join(os.tmpdir(), 'nanopilot-storage-')));
    const steps = [
      node(
        'creating',
        `require('fs').mkdirSync(${JSON.stringify(layout.dir)}); ` +
          `require('fs').writeFileSync(${JSON.stringify(layout.marker)}, '{}')`,
      ),
      node('installing torch (CPU)', 'process.exit(1)'),
    ];
    await assert.rejects(
      installEnvironment('create', steps, layout, wheel, [], recorder().reporter),
      /installing torch \(CPU\) failed: exit status 1/,
    );
    assert.equal(existsSync(layout.dir), false);
  });

  it('reports a command that cannot start', async () => {
    const layout = envLayout(mkdtempSync(path.join(os.tmpdir(), 'nanopilot-storage-')));
    const steps = [{ title: 'creating', command: '/nonexistent/python3', args: [] }];
    await assert.rejects(
      installEnvironment('create', steps, layout, wheel, [], recorder().reporter),
      /creating failed: .*ENOENT/,
    );
  });
});
