/**
 * Where completion is on: per language and per file, decided from the settings alone.
 *
 * The server serves any file type (a remote engine or the copy engine answers in any language),
 * so the extension opens every file to it and the user narrows that down, in both directions:
 *
 * 1. `nanopilot.enable: false` turns everything off (the toggle command);
 * 2. a file that matches a `nanopilot.exclude` glob is off, and the server never sees it;
 * 3. a file that matches a `nanopilot.include` glob is on, whatever its language;
 * 4. otherwise the document's language id in `nanopilot.languages` says, then its `*` entry.
 *
 * Globs are minimatch patterns, matched against the path relative to the file's workspace folder
 * and against the absolute path, with `/` as separator on every platform and dot files included;
 * a pattern without a `/` matches the file name in any folder (`*.min.js`, `.env`), as in
 * .gitignore. Documents that are no file (untitled) have no path: only the language rules apply.
 */

import { minimatch } from 'minimatch';

import type { ExtensionSettings } from './settings';

export type CompletionScope = Pick<
  ExtensionSettings,
  'enable' | 'languages' | 'exclude' | 'include'
>;

/** What the rules look at in a document. */
export interface DocumentInfo {
  languageId: string;
  /** The absolute path; undefined for a document that is no file. */
  path?: string;
  /** The path relative to the document's workspace folder; undefined outside any. */
  relativePath?: string;
}

/** Why completion is off for a document; the status bar says it. */
export type Disabled =
  | { by: 'enable' }
  | { by: 'exclude'; pattern: string }
  /** `entry` is the `nanopilot.languages` key that said no: the language id, or `*`. */
  | { by: 'language'; languageId: string; entry: string };

const GLOB_OPTIONS = {
  dot: true,
  matchBase: true,
  // `\` separates folders in a Windows path a user pastes; globs need no escaping in file names.
  windowsPathsNoEscape: true,
};

/** The first of `patterns` that the document's path matches; undefined for none or no path. */
export function matchingGlob(
  patterns: readonly string[],
  document: DocumentInfo,
): string | undefined {
  const paths = [document.relativePath, document.path]
    .filter((value): value is string => value !== undefined && value !== '')
    .map((value) => value.replace(/\\/g, '/'));
  return patterns.find((pattern) =>
    paths.some((candidate) => minimatch(candidate, pattern, GLOB_OPTIONS)),
  );
}

/** Why completion is off for the document, by the precedence above; undefined when it is on. */
export function whyDisabled(scope: CompletionScope, document: DocumentInfo): Disabled | undefined {
  if (!scope.enable) {
    return { by: 'enable' };
  }
  const excluded = matchingGlob(scope.exclude, document);
  if (excluded !== undefined) {
    return { by: 'exclude', pattern: excluded };
  }
  if (matchingGlob(scope.include, document) !== undefined) {
    return undefined;
  }
  const entry = Object.hasOwn(scope.languages, document.languageId) ? document.languageId : '*';
  const on = scope.languages[entry] ?? true;
  return on ? undefined : { by: 'language', languageId: document.languageId, entry };
}

export function completionEnabled(scope: CompletionScope, document: DocumentInfo): boolean {
  return whyDisabled(scope, document) === undefined;
}
