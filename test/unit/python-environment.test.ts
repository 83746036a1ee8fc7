/**
 * The project's Python environment, made by its own scripts from the lock: made when missing, made again when
 * the lock changes, made once when two ask at once, and one line when Python is missing or pip fails. The
 * locks here pin nothing (or something no index serves), so no test downloads a package.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_STAMP, ensurePythonEnvironment } from '../../lib/python/environment';
import { lockHash } from '../../lib/python/requirements';

/** A folder with a lock holding `lines` and where its environment goes. */
const project = (lines: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'python-environment-'));
  const lockFile = join(dir, 'requirements.txt');
  writeFileSync(lockFile, lines);
  return { lockFile, venvDir: join(dir, '.venv') };
};
/** The tests' own environment, without BLAST_PYTHON (which would skip making one). */
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, BLAST_PYTHON: '', ...extra });

// Each case makes real environments (python3 -m venv, pip), which takes a while on a busy machine.
describe('Function: ensurePythonEnvironment', { timeout: 240_000 }, () => {
  it('makes the environment from the lock, records the lock’s hash in it, and leaves it alone while the lock is unchanged', async () => {
    // Prepare
    const paths = project('# no packages\n');
    const lines: string[] = [];

    // Act
    const first = await ensurePythonEnvironment({ ...paths, env: env(), onLine: (line) => lines.push(line) });
    const second = await ensurePythonEnvironment({ ...paths, env: env() });

    // Assess
    expect(first).toEqual({ ready: true, python: join(paths.venvDir, 'bin', 'python'), made: true });
    expect(existsSync(join(paths.venvDir, 'bin', 'python'))).toBe(true);
    expect(readFileSync(join(paths.venvDir, LOCK_STAMP), 'utf8').trim()).toBe(lockHash(paths.lockFile));
    expect(lines[0]).toBe(`making the Python environment ${paths.venvDir} from ${paths.lockFile}…`);
    expect(second).toEqual({ ready: true, python: join(paths.venvDir, 'bin', 'python'), made: false });
  });

  it('makes it again, from nothing, when the lock changed', async () => {
    // Prepare
    const paths = project('# no packages\n');
    await ensurePythonEnvironment({ ...paths, env: env() });
    writeFileSync(join(paths.venvDir, 'left-from-the-old-lock'), '');
    writeFileSync(paths.lockFile, '# no packages, locked again\n');

    // Act
    const outcome = await ensurePythonEnvironment({ ...paths, env: env() });

    // Assess
    expect(outcome).toMatchObject({ ready: true, made: true });
    expect(existsSync(join(paths.venvDir, 'left-from-the-old-lock'))).toBe(false);
    expect(readFileSync(join(paths.venvDir, LOCK_STAMP), 'utf8').trim()).toBe(lockHash(paths.lockFile));
  });

  it('makes it once when two callers ask at the same time; the other waits and uses it', async () => {
    // Prepare
    const paths = project('# no packages\n');
    const waiting: string[] = [];

    // Act
    const outcomes = await Promise.all([
      ensurePythonEnvironment({ ...paths, env: env() }),
      ensurePythonEnvironment({ ...paths, env: env(), onLine: (line) => waiting.push(line) }),
    ]);

    // Assess
    expect(outcomes.map((outcome) => outcome.ready && outcome.made).sort()).toEqual([false, true]);
    expect(waiting[0]).toBe(`waiting for another process making ${paths.venvDir}…`);
    expect(existsSync(`${paths.venvDir}.lock`)).toBe(false);
  });

  it('says in one line that Python is missing, and makes nothing', async () => {
    // Prepare
    const paths = project('# no packages\n');

    // Act
    const outcome = await ensurePythonEnvironment({ ...paths, env: env(), basePython: '/nonexistent/python3' });

    // Assess
    expect(outcome).toEqual({
      ready: false,
      cause: 'no-python',
      problem: 'Python 3 was not found ("/nonexistent/python3"): the Python runners cannot run; the TypeScript runners run',
    });
    expect(existsSync(paths.venvDir)).toBe(false);
  });

  it('says in one line, with pip’s last lines, that the packages could not be installed, and leaves no half-made environment', async () => {
    // Prepare: a pinned package and an index that is not there (as with no network)
    const paths = project(`numpy==2.4.6 \\\n    --hash=sha256:${'0'.repeat(64)}\n`);
    const offline = env({ PIP_INDEX_URL: 'http://127.0.0.1:9/simple', PIP_FIND_LINKS: '', PIP_RETRIES: '0', PIP_TIMEOUT: '1', PIP_NO_CACHE_DIR: '1' });

    // Act
    const outcome = await ensurePythonEnvironment({ ...paths, env: offline });

    // Assess
    expect(outcome).toMatchObject({ ready: false, cause: 'install-failed' });
    const problem = outcome.ready ? '' : outcome.problem;
    expect(problem).toMatch(new RegExp(`^could not install the Python runners' packages from ${paths.lockFile} into ${paths.venvDir}: .*numpy==2\\.4\\.6`));
    expect(problem).not.toContain('\n');
    expect(existsSync(paths.venvDir)).toBe(false);
  });

  it('makes nothing when BLAST_PYTHON names the interpreter, whose packages its owner keeps', async () => {
    // Prepare
    const paths = project('# no packages\n');

    // Act
    const outcome = await ensurePythonEnvironment({ ...paths, env: env({ BLAST_PYTHON: '/opt/science/bin/python' }) });

    // Assess
    expect(outcome).toEqual({ ready: true, python: '/opt/science/bin/python', made: false });
    expect(existsSync(paths.venvDir)).toBe(false);
  });
});
