import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import {
  DEFAULTS,
  excludeFromScopes,
  type ExtensionSettings,
  pythonCommand,
  pythonExtras,
  readSettings,
  resolveUserPath,
  restartReason,
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
        decoder: 'onnx',
        enable: false,
        useSuffix: true,
        index: 'tabs',
        filter: 'everything',
        engine: { kind: 'llamacpp', url: 'http://gpu:8080', timeoutMs: 'soon' },
      }),
    );
    assert.equal(settings.temperature, 0);
    assert.equal(settings.topP, 1.5);
    assert.equal(settings.maxNewTokens, 7);
    assert.equal(settings.multiline, 'never');
    assert.equal(settings.decoder, 'onnx');
    assert.equal(settings.enable, false);
    assert.equal(settings.useSuffix, true);
    assert.equal(settings.index, 'tabs');
    assert.equal(settings.filter, 'balanced'); // not one of the choices: the default
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
        decoder: 'fast',
        enable: 1,
        useSuffix: 'yes',
        engine: 'llamacpp',
      }),
    );
    assert.deepEqual(settings, DEFAULTS);
  });

  it('adds the language entries to the defaults and drops those that are no booleans', () => {
    const settings = readSettings(
      reader({ languages: { python: false, markdown: true, rust: 'no', go: null } }),
    );
    assert.deepEqual(settings.languages, {
      '*': true,
      plaintext: false,
      markdown: true,
      scminput: false,
      python: false,
    });
    for (const languages of ['python', ['python'], null, 3]) {
      assert.deepEqual(readSettings(reader({ languages })).languages, DEFAULTS.languages);
    }
  });

  it('keeps the non-empty glob strings, trimmed', () => {
    const settings = readSettings(
      reader({ exclude: [' **/secrets/** ', '', 3, '*.min.js'], include: 'src/**' }),
    );
    assert.deepEqual(settings.exclude, ['**/secrets/**', '*.min.js']);
    assert.deepEqual(settings.include, []);
  });

  it('keeps every decoder the server knows and nothing else', () => {
    for (const decoder of ['auto', 'lean', 'onnx', 'huggingface']) {
      assert.equal(readSettings(reader({ decoder })).decoder, decoder);
    }
    for (const decoder of ['ONNX', ' onnx', 3, null, ['onnx']]) {
      assert.equal(readSettings(reader({ decoder })).decoder, 'auto');
    }
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

  it('offers in package.json exactly the choices readSettings keeps', () => {
    const manifest = JSON.parse(
      readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'),
    ) as {
      contributes: {
        configuration: {
          properties: Record<string, { enum?: string[]; enumDescriptions?: string[] }>;
        };
      };
    };
    for (const key of ['multiline', 'decoder'] as const) {
      const property = manifest.contributes.configuration.properties[`nanopilot.${key}`];
      assert.ok(property.enum && property.enumDescriptions);
      assert.equal(property.enumDescriptions.length, property.enum.length);
      for (const value of property.enum) {
        assert.equal(readSettings(reader({ [key]: value }))[key], value);
      }
    }
  });
});

describe('excludeFromScopes', () => {
  it("adds a workspace's globs to the user's; an empty workspace list clears nothing", () => {
    assert.deepEqual(excludeFromScopes([[], ['**/.env', '**/secrets/**'], []]), [
      '**/.env',
      '**/secrets/**',
    ]);
    assert.deepEqual(excludeFromScopes([[], ['**/.env'], ['**/.env', 'dist/**']]), [
      '**/.env',
      'dist/**',
    ]);
  });

  it('skips unset scopes and values that are no lists', () => {
    assert.deepEqual(excludeFromScopes([undefined, 'secrets/**', [' *.pem ', 7]]), ['*.pem']);
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
      decoder: 'auto',
      enable: true,
      useSuffix: false,
      index: 'workspace',
      filter: 'balanced',
      context: true,
      contextShare: 0.5,
      engine: { kind: 'local' },
    });
  });

  it('passes the decoder on under its own name', () => {
    assert.equal(toServerSettings({ ...DEFAULTS, decoder: 'onnx' }, '/work').decoder, 'onnx');
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

describe('pythonExtras', () => {
  it('asks for the onnx extra for the onnx decoder only', () => {
    assert.deepEqual(pythonExtras({ ...DEFAULTS, decoder: 'onnx' }), ['onnx']);
    for (const decoder of ['auto', 'lean', 'huggingface'] as const) {
      assert.deepEqual(pythonExtras({ ...DEFAULTS, decoder }), []);
    }
  });
});

describe('restartReason', () => {
  it('restarts for a new interpreter, not for the other settings', () => {
    assert.equal(
      restartReason(DEFAULTS, { ...DEFAULTS, temperature: 1, enable: false, decoder: 'lean' }),
      undefined,
    );
    assert.equal(
      restartReason(DEFAULTS, { ...DEFAULTS, pythonPath: '/usr/bin/python3' }),
      'nanopilot.pythonPath changed',
    );
  });

  it('restarts for the onnx decoder in the managed environment, which may need onnxruntime', () => {
    const onnx = { ...DEFAULTS, decoder: 'onnx' } as const;
    assert.match(restartReason(DEFAULTS, onnx) ?? '', /nanopilot\[onnx\]/);
    // Back from onnx, or onnx with an interpreter of the user's: the server reloads by itself.
    assert.equal(restartReason(onnx, DEFAULTS), undefined);
    const own = { ...DEFAULTS, pythonPath: '/usr/bin/python3' };
    assert.equal(restartReason(own, { ...own, decoder: 'onnx' }), undefined);
  });
});
