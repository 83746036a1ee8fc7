/**
 * The project's own Python environment (`.venv`), made here from the lock (python/requirements.txt) so that
 * the Python runners import the same numpy, astropy and photutils as in their Lambda functions. It is made
 * when it is missing or was made from another lock (the lock's hash is kept in it), with pip's lines as
 * progress; two processes asking at once make it once (a lock directory beside it). A missing Python or a
 * failed install is one line, and the TypeScript runners run all the same.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LOCK_POLL_MS, REQUIREMENTS_LOCK, lastLines, lockHash, tryLock, unlock } from './requirements';

/** Where the environment is made; lib/python/interpreter.ts runs the Python code with its interpreter. */
export const VENV_DIR = '.venv';
/** The file in the environment that holds the hash of the lock it was made from. */
export const LOCK_STAMP = '.requirements.sha256';

export interface EnvironmentOptions {
  /** @default '.venv' */
  readonly venvDir?: string;
  /** @default 'python/requirements.txt' */
  readonly lockFile?: string;
  /** The Python that makes the environment. @default 'python3' */
  readonly basePython?: string;
  /** Progress: pip's lines while it installs. @default none */
  readonly onLine?: (line: string) => void;
  /** The environment pip runs with. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

export type EnvironmentOutcome =
  /** `made`: this call made it (false: it was there, made from this lock). */
  | { readonly ready: true; readonly python: string; readonly made: boolean }
  /** `problem`: one line saying Python is missing (`no-python`) or what failed (`install-failed`, with pip's last lines). */
  | { readonly ready: false; readonly cause: 'no-python' | 'install-failed'; readonly problem: string };

const stampOf = (venvDir: string): string | undefined => {
  try {
    return readFileSync(join(venvDir, LOCK_STAMP), 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** Runs a command, passing each line it prints to `onLine`; resolves with its exit code and everything it printed. */
const run = (command: string, args: readonly string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void) =>
  new Promise<{ code: number | null; output: string; error?: Error }>((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (stream: NodeJS.ReadableStream, show: boolean) =>
      createInterface({ input: stream }).on('line', (line) => {
        output += `${line}\n`;
        if (show && line.trim()) onLine(line);
      });
    collect(child.stdout, true);
    collect(child.stderr, false);
    child.on('error', (error) => resolve({ code: null, output, error }));
    child.on('close', (code) => resolve({ code, output }));
  });

const make = async (venvDir: string, lockFile: string, hash: string, basePython: string, env: NodeJS.ProcessEnv, onLine: (line: string) => void): Promise<EnvironmentOutcome> => {
  rmSync(venvDir, { recursive: true, force: true });
  onLine(`making the Python environment ${venvDir} from ${lockFile}…`);
  const venv = await run(basePython, ['-m', 'venv', venvDir], env, onLine);
  if (venv.code !== 0) {
    rmSync(venvDir, { recursive: true, force: true });
    const hint = /ensurepip/.test(venv.output) ? ' (on Debian: apt-get install python3-venv)' : '';
    return { ready: false, cause: 'install-failed', problem: `could not make the Python environment ${venvDir}: ${basePython} -m venv failed${hint}: ${lastLines(venv.output)}` };
  }
  const python = join(venvDir, 'bin', 'python');
  const args = ['-m', 'pip', 'install', '--require-hashes', '--only-binary=:all:', '--no-input', '--disable-pip-version-check', '--progress-bar', 'off', '-r', lockFile];
  const pip = await run(python, args, env, onLine);
  if (pip.code !== 0) {
    rmSync(venvDir, { recursive: true, force: true });
    return { ready: false, cause: 'install-failed', problem: `could not install the Python runners' packages from ${lockFile} into ${venvDir}: ${lastLines(pip.output)}` };
  }
  writeFileSync(join(venvDir, LOCK_STAMP), `${hash}\n`);
  return { ready: true, python, made: true };
};

/**
 * Makes `.venv` from the lock when it is missing or was made from another lock, and says whether the Python
 * runners can run. BLAST_PYTHON names an interpreter whose packages its owner keeps: nothing is made then.
 */
export const ensurePythonEnvironment = async (options: EnvironmentOptions = {}): Promise<EnvironmentOutcome> => {
  const env = options.env ?? process.env;
  if (env.BLAST_PYTHON) return { ready: true, python: env.BLAST_PYTHON, made: false };
  const venvDir = options.venvDir ?? VENV_DIR;
  const lockFile = options.lockFile ?? REQUIREMENTS_LOCK;
  const basePython = options.basePython ?? 'python3';
  const onLine = options.onLine ?? (() => undefined);
  const python = join(venvDir, 'bin', 'python');
  const hash = lockHash(lockFile);
  if (stampOf(venvDir) === hash) return { ready: true, python, made: false };

  const found = spawnSync(basePython, ['--version'], { env, encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    return { ready: false, cause: 'no-python', problem: `Python 3 was not found ("${basePython}"): the Python runners cannot run; the TypeScript runners run` };
  }
  const lock = `${venvDir}.lock`;
  let announced = false;
  while (!tryLock(lock)) {
    if (!announced) onLine(`waiting for another process making ${venvDir}…`);
    announced = true;
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
  try {
    // Another process may have made it while this one waited.
    if (stampOf(venvDir) === hash && existsSync(python)) return { ready: true, python, made: false };
    return await make(venvDir, lockFile, hash, basePython, env, onLine);
  } finally {
    unlock(lock);
  }
};
