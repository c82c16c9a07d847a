import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import {
  DEFAULTS,
  type ExtensionSettings,
  needsRestart,
  pythonCommand,
  readSettings,
  resolveUserPath,
  toServerSettings,
} from '../settings';

function reader(values: Partial<Record<keyof ExtensionSettings, unknown>>) {
  return (key: keyof ExtensionSettings) => values[key];
}

describe('readSettings', () => {
  it('fills in the defaults', () => {
    assert.deepEqual(readSettings(reader({})), DEFAULTS);
  });

  it('keeps values of the right type, out of range ones too (the server reports those)', () => {
    const settings = readSettings(
      reader({
        temperature: 0,
        topP: 1.5,
        maxNewTokens: 7,
        multiline: 'never',
        enable: false,
        useSuffix: true,
        engine: { kind: 'llamacpp', url: 'http://gpu:8080', timeoutMs: 'soon' },
      }),
    );
    assert.equal(settings.temperature, 0);
    assert.equal(settings.topP, 1.5);
    assert.equal(settings.maxNewTokens, 7);
    assert.equal(settings.multiline, 'never');
    assert.equal(settings.enable, false);
    assert.equal(settings.useSuffix, true);
    // An engine object goes to the server as written: the server reports bad fields by name.
    assert.deepEqual(settings.engine, {
      kind: 'llamacpp',
      url: 'http://gpu:8080',
      timeoutMs: 'soon',
    });
  });

  it('replaces values of the wrong type with the defaults', () => {
    const settings = readSettings(
      reader({
        pythonPath: '  ',
        temperature: 'hot',
        topP: NaN,
        multiline: 'sometimes',
        enable: 1,
        useSuffix: 'yes',
        engine: 'llamacpp',
      }),
    );
    assert.deepEqual(settings, DEFAULTS);
  });

  it('matches the defaults declared in package.json', () => {
    const manifest = JSON.parse(
      readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'),
    ) as { contributes: { configuration: { properties: Record<string, { default: unknown }> } } };
    const declared = Object.fromEntries(
      Object.entries(manifest.contributes.configuration.properties).map(([key, property]) => [
        key.replace(/^nanopilot\./, ''),
        property.default,
      ]),
    );
    assert.deepEqual(declared, { ...DEFAULTS });
  });
});

describe('toServerSettings', () => {
  it("renames modelPath to the server's model and drops pythonPath", () => {
    const settings = { ...DEFAULTS, modelPath: '/models/tiny', temperature: 0 };
    assert.deepEqual(toServerSettings(settings, '/work'), {
      model: '/models/tiny',
      temperature: 0,
      topP: 0.95,
      maxNewTokens: 48,
      multiline: 'auto',
      enable: true,
      useSuffix: false,
      engine: { kind: 'local' },
    });
  });

  it('passes the engine setting on', () => {
    const engine = { kind: 'openai', url: 'http://gpu:8000', apiKeyEnv: 'VLLM_KEY' } as const;
    assert.deepEqual(toServerSettings({ ...DEFAULTS, engine }, '/work').engine, engine);
  });

  it('sends null for an empty modelPath: the default model', () => {
    assert.equal(toServerSettings(DEFAULTS, '/work').model, null);
  });

  it('resolves a relative modelPath against the workspace folder', () => {
    assert.equal(
      toServerSettings({ ...DEFAULTS, modelPath: 'runs/m' }, '/work').model,
      '/work/runs/m',
    );
  });
});

describe('resolveUserPath', () => {
  it('expands ~ and ${workspaceFolder}', () => {
    assert.equal(resolveUserPath('~/models', '/work', '/home/me'), '/home/me/models');
    assert.equal(resolveUserPath('${workspaceFolder}/m', '/work', '/home/me'), '/work/m');
    assert.equal(resolveUserPath('/abs/m', '/work', '/home/me'), '/abs/m');
  });
});

describe('pythonCommand', () => {
  it('leaves a bare name to the PATH lookup and resolves a path', () => {
    assert.equal(pythonCommand({ ...DEFAULTS, pythonPath: 'python3' }, '/work'), 'python3');
    assert.equal(
      pythonCommand({ ...DEFAULTS, pythonPath: '.venv/bin/python' }, '/work'),
      '/work/.venv/bin/python',
    );
  });

  it('is undefined when none is set: the managed environment runs the server', () => {
    assert.equal(pythonCommand(DEFAULTS, '/work'), undefined);
    assert.equal(pythonCommand(readSettings(reader({ pythonPath: '  ' })), '/work'), undefined);
  });
});

describe('needsRestart', () => {
  it('restarts only for a new interpreter', () => {
    assert.equal(needsRestart(DEFAULTS, { ...DEFAULTS, temperature: 1, enable: false }), false);
    assert.equal(needsRestart(DEFAULTS, { ...DEFAULTS, pythonPath: '/usr/bin/python3' }), true);
  });
});
