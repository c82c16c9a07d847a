import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { COMMANDS, OPEN_SETTINGS, stateFromReport, statusView } from '../status';

describe('statusView', () => {
  it('shows the loading progress', () => {
    const view = statusView({ kind: 'loading', message: 'Loading model', percentage: 42.4 });
    assert.equal(view.text, '$(sync~spin) nanopilot: loading 42%');
    assert.match(view.tooltip, /^Loading model/);
    assert.equal(view.command, COMMANDS.showLog);
  });

  it('offers the server status once ready', () => {
    const view = statusView({ kind: 'ready' });
    assert.equal(view.text, '$(sparkle) nanopilot: ready');
    assert.equal(view.command, COMMANDS.showStatus);
    assert.equal(view.isError, false);
  });

  it('shows off when completions are disabled, whatever the server does', () => {
    for (const state of [{ kind: 'ready' }, { kind: 'loading' }, { kind: 'starting' }] as const) {
      const view = statusView(state, { by: 'enable' });
      assert.equal(view.text, '$(circle-slash) nanopilot: off');
      assert.equal(view.command, COMMANDS.toggle);
    }
  });

  it('says for which language it is off, and a click opens nanopilot.languages', () => {
    const view = statusView(
      { kind: 'ready' },
      { by: 'language', languageId: 'markdown', entry: 'markdown' },
    );
    assert.equal(view.text, '$(circle-slash) nanopilot: off for markdown');
    assert.match(view.tooltip, /"markdown": false/);
    assert.equal(view.command, OPEN_SETTINGS);
    assert.deepEqual(view.arguments, ['nanopilot.languages']);
    const byDefault = statusView(
      { kind: 'loading' },
      { by: 'language', languageId: 'rust', entry: '*' },
    );
    assert.equal(byDefault.text, '$(circle-slash) nanopilot: off for rust');
    assert.match(byDefault.tooltip, /"\*": false and no entry for rust/);
  });

  it('says which exclude glob keeps a file from the server', () => {
    const view = statusView({ kind: 'ready' }, { by: 'exclude', pattern: '**/secrets/**' });
    assert.equal(view.text, '$(circle-slash) nanopilot: off for this file');
    assert.match(view.tooltip, /\*\*\/secrets\/\*\* in nanopilot.exclude/);
    assert.deepEqual(view.arguments, ['nanopilot.exclude']);
  });

  it('shows an error even when disabled, and a click opens the log', () => {
    const view = statusView({ kind: 'error', message: 'Python was not found' }, { by: 'enable' });
    assert.equal(view.text, '$(error) nanopilot: error');
    assert.match(view.tooltip, /Python was not found/);
    assert.equal(view.command, COMMANDS.showLog);
    assert.equal(view.isError, true);
  });

  it('says when a remote engine does not answer', () => {
    const view = statusView({ kind: 'unreachable', message: 'Engine unreachable: refused' });
    assert.equal(view.text, '$(warning) nanopilot: engine unreachable');
    assert.match(view.tooltip, /refused/);
    assert.equal(view.command, COMMANDS.showLog);
  });

  it('waits for the first file without calling it stopped', () => {
    const view = statusView({ kind: 'idle' });
    assert.equal(view.text, '$(circle-outline) nanopilot');
    assert.match(view.tooltip, /starts when you open a file/);
  });

  it('offers a restart when stopped', () => {
    assert.equal(statusView({ kind: 'stopped' }).command, COMMANDS.restart);
  });

  it('offers the set-up when there is no environment, even when disabled', () => {
    const view = statusView({ kind: 'needs-setup' }, { by: 'enable' });
    assert.equal(view.text, '$(tools) nanopilot: set up');
    assert.equal(view.command, COMMANDS.setUp);
  });

  it('shows what the set-up is doing', () => {
    const view = statusView({ kind: 'setting-up', message: 'installing torch (CPU)' });
    assert.equal(view.text, '$(sync~spin) nanopilot: setting up');
    assert.match(view.tooltip, /^installing torch \(CPU\)/);
  });

  it('contributes every command it can run', () => {
    const manifest = JSON.parse(
      readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'),
    ) as { contributes: { commands: { command: string }[] } };
    const contributed = manifest.contributes.commands.map((entry) => entry.command);
    for (const command of Object.values(COMMANDS)) {
      assert.ok(contributed.includes(command), `${command} is not in package.json`);
    }
  });
});

describe('stateFromReport', () => {
  it("is unreachable when the remote engine does not answer, with the server's reason", () => {
    const state = stateFromReport({ state: 'engine unreachable', error: 'cannot connect' });
    assert.deepEqual(state, { kind: 'unreachable', message: 'Engine unreachable: cannot connect' });
  });

  it('is ready when the server says so, with the loading message as detail', () => {
    assert.deepEqual(stateFromReport({ state: 'ready' }, 'model ready on cpu'), {
      kind: 'ready',
      detail: 'model ready on cpu',
    });
  });

  it("is an error without a model, with the server's reason", () => {
    const state = stateFromReport({ state: 'no model', error: 'models/x: no config.json' });
    assert.deepEqual(state, { kind: 'error', message: 'No model: models/x: no config.json' });
  });

  it('says so when a new model failed to load and the previous one still serves', () => {
    const state = stateFromReport({ state: 'ready', error: 'no model in /x' }, 'no model');
    assert.deepEqual(state, { kind: 'ready', detail: 'Still the previous model (no model in /x)' });
  });

  it('is still loading while a newer model loads', () => {
    assert.equal(stateFromReport({ state: 'loading' }).kind, 'loading');
  });

  it('falls back to ready when the status cannot be read', () => {
    assert.equal(stateFromReport(undefined, 'done').kind, 'ready');
  });
});
