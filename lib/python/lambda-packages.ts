/**
 * The Python runners' packages as Lambda loads them: pip installs the lock's wheels for Lambda's Python and
 * architecture (not this machine's) into a folder, without Docker, once per lock: the folder is kept under
 * `.cache/python-lambda/` and named by the lock's hash, so every later synth reuses it. Test suites and
 * `__pycache__` are left out (Lambda's 250 MB limit); a `tests` package that its parent imports stays.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../domain/errors';
import { LOCK_POLL_MS, REQUIREMENTS_LOCK, lastLines, lockHash, tryLock, unlock } from './requirements';

/** Where the installed packages are kept between synths. */
export const LAMBDA_PACKAGES_CACHE = join('.cache', 'python-lambda');

export interface LambdaTarget {
  /** Lambda's Python version, e.g. '3.13'. */
  readonly pythonVersion: string;
  /** The machine as wheels' platform tags name it: 'aarch64' or 'x86_64'. */
  readonly machine: 'aarch64' | 'x86_64';
}

/**
 * The platforms pip may pick wheels for: every manylinux up to the glibc of Lambda's Python 3.12+ runtimes
 * (Amazon Linux 2023, glibc 2.34). pip takes `--platform` literally, so each one is named.
 */
export const manylinuxPlatforms = (machine: LambdaTarget['machine']): string[] => [
  ...Array.from({ length: 34 - 17 + 1 }, (_, index) => `manylinux_2_${34 - index}_${machine}`),
  `manylinux2014_${machine}`,
];

/** The pip command that installs the lock for `target` into `dir`. */
export const lambdaInstallArgs = (target: LambdaTarget, lockFile: string, dir: string): string[] => [
  '-m',
  'pip',
  'install',
  '--require-hashes',
  '-r',
  lockFile,
  '--only-binary=:all:',
  '--implementation',
  'cp',
  '--python-version',
  target.pythonVersion,
  ...manylinuxPlatforms(target.machine).flatMap((platform) => ['--platform', platform]),
  '--target',
  dir,
  '--no-compile',
  '--no-input',
  '--disable-pip-version-check',
  '--progress-bar',
  'off',
];

/** Removes test suites from an installed tree, except a `tests` package its parent's `__init__.py` imports (astropy's). */
const stripTests = (dir: string): void => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    const init = join(dir, '__init__.py');
    const imported = existsSync(init) && /^\s*from \.tests\b/m.test(readFileSync(init, 'utf8'));
    if (entry.name === '__pycache__' || (entry.name === 'tests' && !imported)) rmSync(path, { recursive: true, force: true });
    else stripTests(path);
  }
};

export interface LambdaPackagesOptions {
  /** @default 'python/requirements.txt' */
  readonly lockFile?: string;
  /** @default '.cache/python-lambda' */
  readonly cacheDir?: string;
  /** The Python whose pip installs the wheels (any version: pip installs for `target`). @default 'python3' */
  readonly python?: string;
  /** Progress lines. @default stderr */
  readonly onLine?: (line: string) => void;
}

/** The cache folder for a lock's hash and a target. */
export const lambdaPackagesDir = (target: LambdaTarget, hash: string, cacheDir: string = LAMBDA_PACKAGES_CACHE): string =>
  join(cacheDir, `${hash.slice(0, 16)}-cp${target.pythonVersion.replace('.', '')}-${target.machine}`);

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * The folder holding the lock's packages for `target`, installed now when the cache has none for this lock.
 * Synchronous, as CDK's local bundling is. Throws a ConfigError with pip's last lines when pip fails.
 */
export const lambdaPackages = (target: LambdaTarget, options: LambdaPackagesOptions = {}): string => {
  const lockFile = options.lockFile ?? REQUIREMENTS_LOCK;
  const onLine = options.onLine ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = lambdaPackagesDir(target, lockHash(lockFile), options.cacheDir);
  if (existsSync(dir)) return dir;
  const lock = `${dir}.lock`;
  mkdirSync(dirname(dir), { recursive: true });
  let announced = false;
  while (!tryLock(lock)) {
    if (!announced) onLine(`waiting for another process installing the Python packages for Lambda into ${dir}…`);
    announced = true;
    sleep(LOCK_POLL_MS);
  }
  try {
    if (existsSync(dir)) return dir;
    const partial = `${dir}.partial`;
    rmSync(partial, { recursive: true, force: true });
    onLine(`installing the Python runners' packages from ${lockFile} for Lambda (Python ${target.pythonVersion}, ${target.machine}) into ${dir}…`);
    const pip = spawnSync(options.python ?? 'python3', lambdaInstallArgs(target, lockFile, partial), { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (pip.error || pip.status !== 0) {
      rmSync(partial, { recursive: true, force: true });
      const why = pip.error ? pip.error.message : lastLines(`${pip.stdout}\n${pip.stderr}`);
      throw new ConfigError(`could not install the Python runners' packages from ${lockFile} for Lambda: ${why}`);
    }
    stripTests(partial);
    // Whole or not at all: a synth stopped halfway leaves a .partial folder, never a cache entry.
    renameSync(partial, dir);
    return dir;
  } finally {
    unlock(lock);
  }
};
