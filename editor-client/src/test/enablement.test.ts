import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  completionEnabled,
  type CompletionScope,
  type DocumentInfo,
  matchingGlob,
  whyDisabled,
} from '../enablement';
import { DEFAULTS } from '../settings';

const DEFAULT_SCOPE: CompletionScope = {
  enable: DEFAULTS.enable,
  languages: DEFAULTS.languages,
  exclude: DEFAULTS.exclude,
  include: DEFAULTS.include,
};

function scope(changes: Partial<CompletionScope>): CompletionScope {
  return { ...DEFAULT_SCOPE, ...changes };
}

/** A file in the workspace folder /work/app. */
function file(relativePath: string, languageId: string): DocumentInfo {
  return { languageId, path: `/work/app/${relativePath}`, relativePath };
}

describe('completionEnabled', () => {
  it('is on for code in every language and off for prose by default', () => {
    for (const languageId of ['python', 'typescript', 'rust', 'shellscript', 'json']) {
      assert.equal(completionEnabled(DEFAULT_SCOPE, { languageId }), true, languageId);
    }
    for (const languageId of ['markdown', 'plaintext', 'scminput']) {
      assert.equal(completionEnabled(DEFAULT_SCOPE, { languageId }), false, languageId);
    }
  });

  it('is off everywhere when nanopilot.enable is false, include globs too', () => {
    const off = scope({ enable: false, include: ['**'] });
    assert.deepEqual(whyDisabled(off, file('main.py', 'python')), { by: 'enable' });
    assert.deepEqual(whyDisabled(off, { languageId: 'python' }), { by: 'enable' });
  });

  it('turns a language off, and one on', () => {
    const settings = scope({ languages: { ...DEFAULTS.languages, python: false, markdown: true } });
    assert.deepEqual(whyDisabled(settings, file('a.py', 'python')), {
      by: 'language',
      languageId: 'python',
      entry: 'python',
    });
    assert.equal(completionEnabled(settings, file('README.md', 'markdown')), true);
  });

  it('uses the * entry for languages without one, on when there is no * at all', () => {
    const only = scope({ languages: { '*': false, python: true } });
    assert.equal(completionEnabled(only, file('a.py', 'python')), true);
    assert.deepEqual(whyDisabled(only, file('a.rs', 'rust')), {
      by: 'language',
      languageId: 'rust',
      entry: '*',
    });
    assert.equal(completionEnabled(scope({ languages: {} }), file('a.rs', 'rust')), true);
  });

  it('reads only the entries the user wrote, not the object prototype', () => {
    const settings = scope({ languages: { '*': false } });
    assert.equal(completionEnabled(settings, { languageId: 'constructor' }), false);
  });

  it('turns files off by exclude globs, in every language, whatever the language entry', () => {
    const settings = scope({ exclude: ['**/secrets/**', '*.min.js', '.env'] });
    assert.deepEqual(whyDisabled(settings, file('config/secrets/keys.py', 'python')), {
      by: 'exclude',
      pattern: '**/secrets/**',
    });
    assert.deepEqual(whyDisabled(settings, file('dist/vendor/lib.min.js', 'javascript')), {
      by: 'exclude',
      pattern: '*.min.js',
    });
    assert.equal(completionEnabled(settings, file('.env', 'dotenv')), false);
    assert.equal(completionEnabled(settings, file('deploy/.env', 'dotenv')), false);
    assert.equal(completionEnabled(settings, file('src/lib.js', 'javascript')), true);
    assert.equal(completionEnabled(settings, file('src/secrets.py', 'python')), true);
  });

  it('turns files on by include globs where their language is off', () => {
    const docs = scope({ include: ['docs/**/*.md'] });
    assert.equal(completionEnabled(docs, file('docs/guide/setup.md', 'markdown')), true);
    assert.equal(completionEnabled(docs, file('README.md', 'markdown')), false);
    // Only src/: everything else off.
    const onlySrc = scope({ languages: { '*': false }, include: ['src/**'] });
    assert.equal(completionEnabled(onlySrc, file('src/app/main.py', 'python')), true);
    assert.equal(completionEnabled(onlySrc, file('tests/test_main.py', 'python')), false);
  });

  it('lets exclude globs win over include globs', () => {
    const settings = scope({ include: ['src/**'], exclude: ['src/generated/**'] });
    assert.equal(completionEnabled(settings, file('src/main.py', 'python')), true);
    assert.deepEqual(whyDisabled(settings, file('src/generated/api.py', 'python')), {
      by: 'exclude',
      pattern: 'src/generated/**',
    });
  });

  it('applies only the language rules to documents that are no file', () => {
    const settings = scope({ exclude: ['**'], include: ['**'] });
    assert.equal(completionEnabled(settings, { languageId: 'python' }), true);
    assert.equal(completionEnabled(settings, { languageId: 'markdown' }), false);
  });
});

describe('matchingGlob', () => {
  it('matches workspace-relative and absolute patterns', () => {
    const inside = file('src/main.py', 'python');
    assert.equal(matchingGlob(['src/*.py'], inside), 'src/*.py');
    assert.equal(matchingGlob(['/work/app/src/**'], inside), '/work/app/src/**');
    assert.equal(matchingGlob(['lib/**', 'tests/**'], inside), undefined);
  });

  it('matches files outside any workspace folder by their absolute path', () => {
    const outside: DocumentInfo = { languageId: 'python', path: '/home/me/notes/todo.py' };
    assert.equal(matchingGlob(['/home/me/notes/**'], outside), '/home/me/notes/**');
    assert.equal(matchingGlob(['**/*.py'], outside), '**/*.py');
    assert.equal(matchingGlob(['notes/**'], outside), undefined);
  });

  it('takes dot files and folders in', () => {
    assert.equal(matchingGlob(['**/secrets/**'], file('secrets/.env', 'dotenv')), '**/secrets/**');
    assert.equal(matchingGlob(['**/*.py'], file('.venv/lib/site.py', 'python')), '**/*.py');
  });

  it('reads Windows paths with / in the patterns', () => {
    const windows: DocumentInfo = {
      languageId: 'python',
      path: 'C:\\work\\app\\secrets\\keys.py',
      relativePath: 'secrets\\keys.py',
    };
    assert.equal(matchingGlob(['secrets/**'], windows), 'secrets/**');
    assert.equal(matchingGlob(['C:/work/app/**'], windows), 'C:/work/app/**');
  });

  it('matches nothing for a document without a path', () => {
    assert.equal(matchingGlob(['**'], { languageId: 'python' }), undefined);
  });
});
