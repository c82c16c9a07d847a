/**
 * The extension's settings (`nanopilot.*` in VS Code) and how they map onto the server's.
 *
 * VS Code names what the user sees (`modelPath`, `pythonPath`); the server has its own names
 * (`model`) and never sees `pythonPath`, which only says how to start it. Keeping the mapping in
 * one pure module lets the unit tests check it without a running VS Code.
 */

import * as os from 'node:os';
import * as path from 'node:path';

export type Multiline = 'auto' | 'always' | 'never';

/**
 * `nanopilot.decoder`: what runs the local model token by token (server/local/decoders.py).
 * ONNX Runtime is a dependency of nanopilot now; choosing `onnx` still asks the managed
 * environment for the `nanopilot[onnx]` extra, so an environment set up before gets it.
 */
export type Decoder = 'auto' | 'lean' | 'onnx' | 'huggingface';
/** `nanopilot.index`: off, the current file, the open documents, or the workspace folder too. */
export type IndexScope = 'off' | 'file' | 'tabs' | 'workspace';
/** `nanopilot.filter`: how sure a suggestion must be to be shown. */
export type Filter = 'conservative' | 'balanced' | 'eager';

/**
 * `nanopilot.engine`: which engine writes the suggestions (see docs/engines.md). Passed to the
 * server as the user wrote it: the server checks each field and reports a bad one by name.
 */
export interface EngineSetting {
  kind: 'local' | 'llamacpp' | 'openai' | 'ollama';
  url?: string;
  model?: string;
  apiKeyEnv?: string;
  fimTemplate?: string;
  timeoutMs?: number;
}

/** What the user configured, with defaults filled in and wrong types replaced by them. */
export interface ExtensionSettings {
  pythonPath: string;
  modelPath: string;
  temperature: number;
  topP: number;
  maxNewTokens: number;
  multiline: Multiline;
  decoder: Decoder;
  enable: boolean;
  /** Language id to on/off, `*` for the others (enablement.ts decides with it). */
  languages: Record<string, boolean>;
  /** Globs of files where completion is off and which the server never sees. */
  exclude: string[];
  /** Globs of files where completion is on whatever `languages` says (`exclude` still wins). */
  include: string[];
  useSuffix: boolean;
  /** Where the server's copy engine looks for the line being typed (server/project/). */
  index: IndexScope;
  /** How sure a suggestion must be to be shown (server/choice.py). */
  filter: Filter;
  /** Repository context (code from other files) in the prompt, and its share of the budget. */
  context: boolean;
  contextShare: number;
  engine: EngineSetting;
}

/**
 * The `nanopilot` section the server reads (initializationOptions, didChangeConfiguration): the
 * same settings, but `model` instead of `modelPath`, no `pythonPath`, and none of the settings
 * that say where completion is on: the extension enforces those (the server never hears of a
 * document where completion is off).
 */
export type ServerSettings = Omit<
  ExtensionSettings,
  'pythonPath' | 'modelPath' | 'languages' | 'exclude' | 'include'
> & {
  /** Absolute model folder, or null for the default model that ships with the server. */
  model: string | null;
};

export const SECTION = 'nanopilot';

/** Mirrors the defaults in package.json's `contributes.configuration` (a unit test checks). */
export const DEFAULTS: ExtensionSettings = {
  /** Empty: the environment the extension manages (managedEnv.ts). */
  pythonPath: '',
  modelPath: '',
  temperature: 0.2,
  topP: 0.95,
  maxNewTokens: 48,
  multiline: 'auto',
  decoder: 'auto',
  enable: true,
  /** As Copilot's `github.copilot.enable`: prose and commit messages are no code. */
  languages: { '*': true, plaintext: false, markdown: false, scminput: false },
  exclude: [],
  include: [],
  useSuffix: false,
  index: 'workspace',
  filter: 'balanced',
  context: true,
  contextShare: 0.5,
  engine: { kind: 'local' },
};

const MULTILINE_VALUES: readonly Multiline[] = ['auto', 'always', 'never'];
const DECODER_VALUES: readonly Decoder[] = ['auto', 'lean', 'onnx', 'huggingface'];
const INDEX_VALUES: readonly IndexScope[] = ['off', 'file', 'tabs', 'workspace'];
const FILTER_VALUES: readonly Filter[] = ['conservative', 'balanced', 'eager'];

/** Reads one setting by its short name, like `vscode.WorkspaceConfiguration.get`. */
export type SettingReader = (key: keyof ExtensionSettings) => unknown;

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function objectOr<T extends object>(value: unknown, fallback: T): T {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? ({ ...value } as T)
    : fallback;
}

/** `value` if it is one of `choices`, else `fallback`: a typo in settings.json gets the default. */
function choiceOr<T extends string>(value: unknown, choices: readonly T[], fallback: T): T {
  return choices.includes(value as T) ? (value as T) : fallback;
}

function booleanOr(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

/** The non-empty strings of an array; anything else is no list at all. */
function globsOr(value: unknown, fallback: string[]): string[] {
  if (!Array.isArray(value)) {
    return fallback;
  }
  return value
    .filter((item): item is string => typeof item === 'string' && item.trim() !== '')
    .map((item) => item.trim());
}

/**
 * `nanopilot.exclude` from every settings scope at once (VS Code's `inspect`: default, user,
 * workspace): a workspace adds globs to the user's but cannot clear them, since they keep secrets
 * from the server and from a remote engine. Each scope's value is read like any other list.
 */
export function excludeFromScopes(values: readonly unknown[]): string[] {
  return [...new Set(values.flatMap((value) => globsOr(value, [])))];
}

/**
 * The user's language entries over the defaults, so that `{"python": false}` keeps markdown off
 * (VS Code merges object settings across scopes the same way). Entries that are not booleans are
 * dropped: one typo does not turn a language on or off.
 */
function languagesOr(value: unknown): Record<string, boolean> {
  const entries = Object.entries(objectOr<Record<string, unknown>>(value, {})).filter(
    (entry): entry is [string, boolean] => typeof entry[1] === 'boolean',
  );
  return { ...DEFAULTS.languages, ...Object.fromEntries(entries) };
}

/**
 * Reads every setting. A value of the wrong type (hand-edited settings.json) falls back to the
 * default; a value of the right type but out of range is passed on, so that the server reports it
 * by name and keeps its previous value.
 */
export function readSettings(read: SettingReader): ExtensionSettings {
  return {
    pythonPath: stringOr(read('pythonPath'), DEFAULTS.pythonPath),
    modelPath: stringOr(read('modelPath'), DEFAULTS.modelPath),
    temperature: numberOr(read('temperature'), DEFAULTS.temperature),
    topP: numberOr(read('topP'), DEFAULTS.topP),
    maxNewTokens: numberOr(read('maxNewTokens'), DEFAULTS.maxNewTokens),
    multiline: choiceOr(read('multiline'), MULTILINE_VALUES, DEFAULTS.multiline),
    decoder: choiceOr(read('decoder'), DECODER_VALUES, DEFAULTS.decoder),
    enable: booleanOr(read('enable'), DEFAULTS.enable),
    languages: languagesOr(read('languages')),
    exclude: globsOr(read('exclude'), DEFAULTS.exclude),
    include: globsOr(read('include'), DEFAULTS.include),
    useSuffix: booleanOr(read('useSuffix'), DEFAULTS.useSuffix),
    index: choiceOr(read('index'), INDEX_VALUES, DEFAULTS.index),
    filter: choiceOr(read('filter'), FILTER_VALUES, DEFAULTS.filter),
    context: booleanOr(read('context'), DEFAULTS.context),
    contextShare: numberOr(read('contextShare'), DEFAULTS.contextShare),
    engine: objectOr(read('engine'), DEFAULTS.engine),
  };
}

/**
 * Makes a user-typed path absolute: `~` is the home folder, `${workspaceFolder}` and relative paths
 * start at the first workspace folder (the server's working directory is not the user's).
 */
export function resolveUserPath(
  value: string,
  workspaceFolder: string | undefined,
  home: string = os.homedir(),
): string {
  let resolved = value.replace(/\$\{workspaceFolder\}/g, workspaceFolder ?? '.');
  if (resolved === '~' || resolved.startsWith('~/')) {
    resolved = path.join(home, resolved.slice(1));
  }
  return path.resolve(workspaceFolder ?? process.cwd(), resolved);
}

/** The server's view of the settings. */
export function toServerSettings(
  settings: ExtensionSettings,
  workspaceFolder: string | undefined,
): ServerSettings {
  return {
    model: settings.modelPath ? resolveUserPath(settings.modelPath, workspaceFolder) : null,
    temperature: settings.temperature,
    topP: settings.topP,
    maxNewTokens: settings.maxNewTokens,
    multiline: settings.multiline,
    decoder: settings.decoder,
    enable: settings.enable,
    useSuffix: settings.useSuffix,
    index: settings.index,
    filter: settings.filter,
    context: settings.context,
    contextShare: settings.contextShare,
    engine: settings.engine,
  };
}

/**
 * The interpreter the user chose: a bare name (`python3`) is looked up on PATH, a path is
 * resolved. Undefined when none is set: then the extension's managed environment runs the server.
 */
export function pythonCommand(
  settings: ExtensionSettings,
  workspaceFolder: string | undefined,
): string | undefined {
  const value = settings.pythonPath;
  if (value === '') {
    return undefined;
  }
  const looksLikePath = value.includes('/') || value.includes('\\') || value.startsWith('~');
  return looksLikePath ? resolveUserPath(value, workspaceFolder) : value;
}

/**
 * nanopilot's optional extras (pyproject.toml) these settings need in the environment that runs
 * the server: `onnx` (onnxruntime) for the onnx decoder. The managed environment installs them.
 */
export function pythonExtras(settings: ExtensionSettings): string[] {
  return settings.decoder === 'onnx' ? ['onnx'] : [];
}

/**
 * Why a change needs a new server process rather than a didChangeConfiguration, or undefined when
 * it does not: another interpreter, or an extra the managed environment may lack (starting checks
 * the environment and installs it first; the model reloads for a new decoder anyway).
 */
export function restartReason(
  before: ExtensionSettings,
  after: ExtensionSettings,
): string | undefined {
  if (before.pythonPath !== after.pythonPath) {
    return 'nanopilot.pythonPath changed';
  }
  const added = pythonExtras(after).filter((extra) => !pythonExtras(before).includes(extra));
  if (after.pythonPath === '' && added.length > 0) {
    return `the settings need nanopilot[${added.join(',')}] in the managed environment`;
  }
  return undefined;
}
