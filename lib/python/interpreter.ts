/**
 * The Python interpreter the project's Python code runs on here: BLAST_PYTHON when set, else the project's
 * virtual environment (`.venv`, made by environment.ts) when there is one, else `python3`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../domain/errors';
import { VENV_DIR } from './environment';

/** The folder of the blast_tasks package, put on PYTHONPATH. */
export const PYTHON_PACKAGE_DIR = 'python';

/** BLAST_PYTHON, else the environment's interpreter (an absolute path: it runs from other folders too), else python3. */
export const pythonExecutable = (): string => {
  if (process.env.BLAST_PYTHON) return process.env.BLAST_PYTHON;
  const venvPython = resolve(VENV_DIR, 'bin', 'python');
  return existsSync(venvPython) ? venvPython : 'python3';
};

/** The environment a Python process of the project runs with: the blast_tasks package importable. */
export const pythonEnvironment = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  PYTHONPATH: [resolve(PYTHON_PACKAGE_DIR), process.env.PYTHONPATH].filter(Boolean).join(':'),
  PYTHONUNBUFFERED: '1',
  PYTHONDONTWRITEBYTECODE: '1',
  ...extra,
});

/** Runs Python to completion and returns what it printed; a missing interpreter or a failure is one clear line. */
export const runPython = (args: readonly string[], doing: string): string => {
  const python = pythonExecutable();
  const result = spawnSync(python, args, { env: pythonEnvironment(), encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ConfigError(missing ? `Python 3 is needed for ${doing}, and "${python}" was not found` : `${doing}: ${result.error.message}`);
  }
  if (result.status !== 0) throw new ConfigError(`${doing}: ${python} exited with ${result.status}: ${result.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return result.stdout;
};
