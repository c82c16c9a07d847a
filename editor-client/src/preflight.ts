/**
 * Checks, before starting the server, that the interpreter exists and can import `server`.
 *
 * Without this, a wrong `nanopilot.pythonPath` shows up as a spawn error or as a server that exits
 * at once, which the language client reports as a cryptic crash. A quick `python -c` that only
 * looks the package up (it imports no torch) turns both into one notification saying what to do.
 */

import { execFile } from 'node:child_process';

/** Exit status of the check script when the interpreter runs but lacks the package. */
const MISSING_PACKAGE_EXIT = 3;

const CHECK_SCRIPT = [
  'import importlib.util, sys',
  'found = importlib.util.find_spec("server") is not None',
  'found = found and importlib.util.find_spec("server.__main__") is not None',
  'print(sys.version.split()[0])',
  `sys.exit(0 if found else ${MISSING_PACKAGE_EXIT})`,
].join('\n');

export type PreflightResult =
  | { ok: true; pythonVersion: string }
  | { ok: false; problem: 'python-missing' | 'server-missing' | 'python-failed'; detail: string };

export interface PreflightOptions {
  /** Not the user's workspace: a folder named `server` there would shadow ours. */
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export function checkPython(python: string, options: PreflightOptions): Promise<PreflightResult> {
  return new Promise((resolve) => {
    execFile(
      python,
      ['-c', CHECK_SCRIPT],
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 30_000 },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ ok: true, pythonVersion: stdout.trim() });
          return;
        }
        const code: unknown = (error as { code?: unknown }).code;
        if (code === 'ENOENT' || code === 'EACCES') {
          resolve({ ok: false, problem: 'python-missing', detail: String(code) });
        } else if (code === MISSING_PACKAGE_EXIT) {
          resolve({ ok: false, problem: 'server-missing', detail: `Python ${stdout.trim()}` });
        } else {
          const lastLine = stderr.trim().split('\n').pop() || error.message;
          resolve({ ok: false, problem: 'python-failed', detail: lastLine });
        }
      },
    );
  });
}

/** The one line the user reads, saying what is wrong and how to fix it. */
export function describeProblem(
  result: Exclude<PreflightResult, { ok: true }>,
  python: string,
): string {
  switch (result.problem) {
    case 'python-missing':
      return (
        `nanopilot: Python was not found at "${python}". Set "nanopilot.pythonPath" to the ` +
        'interpreter of the environment where nanopilot is installed ' +
        '(e.g. /path/to/nanopilot/.venv/bin/python).'
      );
    case 'server-missing':
      return (
        `nanopilot: "${python}" (${result.detail}) cannot import the nanopilot server. ` +
        'Install it there with `pip install -e /path/to/nanopilot`, or set ' +
        '"nanopilot.pythonPath" to the interpreter of the environment where it is installed.'
      );
    case 'python-failed':
      return (
        `nanopilot: "${python}" failed to run (${result.detail}). ` +
        'Check "nanopilot.pythonPath".'
      );
  }
}
