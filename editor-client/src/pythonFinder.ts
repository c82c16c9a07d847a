/**
 * Finds a Python on the machine that can host the managed environment: 3.10 or newer (what
 * nanopilot requires) with a working `venv` (Debian's python3 lacks it without python3-venv).
 *
 * The candidates are tried in order and the first good one wins; the user's default `python3`
 * comes first, since it is the one they keep up to date. Every rejection is kept, so that a
 * failure can say what was tried and why each one was not good enough.
 */

import { execFile } from 'node:child_process';

export const MIN_PYTHON: readonly [number, number] = [3, 10];

export interface PythonCommand {
  command: string;
  /** Arguments before ours, e.g. `-3` for the Windows launcher `py`. */
  args: string[];
}

export interface FoundPython extends PythonCommand {
  version: string;
}

/** What one candidate answered: its version and whether it can create a venv, or why it failed. */
export type ProbeResult = { version: string; hasVenv: boolean } | { error: string };

export type Probe = (python: PythonCommand) => Promise<ProbeResult>;

export type FindResult = { ok: true; python: FoundPython } | { ok: false; tried: string[] };

/** Prints the version, exits 3 when `venv` (with the `ensurepip` it needs) cannot be imported. */
const PROBE_SCRIPT = [
  'import sys',
  'print(sys.version.split()[0])',
  'try:',
  '    import venv, ensurepip',
  'except ImportError:',
  '    sys.exit(3)',
].join('\n');
const NO_VENV_EXIT = 3;

export function candidates(platform: NodeJS.Platform = process.platform): PythonCommand[] {
  const names = ['python3', 'python', 'python3.13', 'python3.12', 'python3.11', 'python3.10'];
  const windows = platform === 'win32' ? [{ command: 'py', args: ['-3'] }] : [];
  return [...windows, ...names.map((command) => ({ command, args: [] }))];
}

export function describeCommand(python: PythonCommand): string {
  return [python.command, ...python.args].join(' ');
}

/** "3.11.7" -> true for MIN_PYTHON 3.10; anything unparsable is not supported. */
export function isSupportedVersion(version: string): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version);
  if (!match) {
    return false;
  }
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}

/** Runs the probe script with one candidate. */
export const probePython: Probe = (python) =>
  new Promise((resolve) => {
    execFile(
      python.command,
      [...python.args, '-c', PROBE_SCRIPT],
      { timeout: 20_000 },
      (error, stdout, stderr) => {
        const version = stdout.trim();
        if (!error) {
          resolve({ version, hasVenv: true });
        } else if ((error as { code?: unknown }).code === NO_VENV_EXIT) {
          resolve({ version, hasVenv: false });
        } else {
          const code: unknown = (error as { code?: unknown }).code;
          resolve({ error: code === 'ENOENT' ? 'not found' : stderr.trim() || error.message });
        }
      },
    );
  });

/** The first candidate that is new enough and has venv; otherwise every reason, one per line. */
export async function findPython(
  commands: PythonCommand[] = candidates(),
  probe: Probe = probePython,
): Promise<FindResult> {
  const tried: string[] = [];
  for (const python of commands) {
    const result = await probe(python);
    const name = describeCommand(python);
    if ('error' in result) {
      tried.push(`${name}: ${result.error}`);
    } else if (!isSupportedVersion(result.version)) {
      tried.push(`${name}: Python ${result.version} is older than ${MIN_PYTHON.join('.')}`);
    } else if (!result.hasVenv) {
      tried.push(`${name}: Python ${result.version} has no venv module (install python3-venv)`);
    } else {
      return { ok: true, python: { ...python, version: result.version } };
    }
  }
  return { ok: false, tried };
}
