/**
 * The third-party packages of the Python runners: one pinned lock with hashes (python/requirements.txt, made
 * from python/requirements.in by pip-compile) for every Python runner, installed here into `.venv`
 * (environment.ts) and for Lambda into the dependencies layer (lambda-packages.ts). What both need: the
 * lock's hash (what an installation was made from), a lock directory so that two processes never install
 * into the same folder at once, and pip's last lines when it fails.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The lock every Python runner's packages come from; python/requirements.in is what it was made from. */
export const REQUIREMENTS_LOCK = join('python', 'requirements.txt');

/** A file's SHA-256, in hex: what a lock or a runner's source was when something was made from it. */
export const fileSha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The lock's SHA-256: an installation made from another lock is rebuilt. */
export const lockHash = (lockFile: string = REQUIREMENTS_LOCK): string => fileSha256(lockFile);

/** The last lines a failing command printed, joined into one line for a message. */
export const lastLines = (output: string, count = 3): string =>
  output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(-count)
    .join(' · ');

/** A lock directory without its holder's id for this long was left by a process that died before writing it. */
const UNNAMED_LOCK_MS = 10_000;

/** Whether a process of this id runs (EPERM: it does, as another user's); for the lock here and the CLI's endpoints file. */
export const processExists = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes the lock `dir` (made with mkdir, which succeeds for one process only) and writes this process's id in
 * it; false when another live process holds it. A lock left by a process that died is taken over.
 */
export const tryLock = (dir: string): boolean => {
  try {
    mkdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    let holder: number;
    try {
      holder = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    } catch {
      // No id yet: made an instant ago (its holder is writing it), or by a process that died at once.
      if (Date.now() - statSync(dir).mtimeMs < UNNAMED_LOCK_MS) return false;
      holder = Number.NaN;
    }
    if (Number.isInteger(holder) && processExists(holder)) return false;
    rmSync(dir, { recursive: true, force: true });
    return tryLock(dir);
  }
  writeFileSync(join(dir, 'pid'), String(process.pid));
  return true;
};

export const unlock = (dir: string): void => rmSync(dir, { recursive: true, force: true });

/** How often a process waiting for a lock looks again. */
export const LOCK_POLL_MS = 250;
