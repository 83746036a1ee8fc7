/**
 * The lock of the Python runners' packages is what `npm run lock:python` makes from python/requirements.in
 * (pip-compile, from PyPI): a package added to requirements.in without remaking the lock fails here.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REQUIREMENTS_LOCK } from '../../lib/python/requirements';

describe('Python lock: python/requirements.txt', () => {
  it('is what `npm run lock:python` makes from python/requirements.in, pins and hashes alike', () => {
    // Prepare: a copy of the lock, whose pins pip-compile keeps
    const copy = join(mkdtempSync(join(tmpdir(), 'python-lock-')), 'requirements.txt');
    copyFileSync(REQUIREMENTS_LOCK, copy);

    // Act
    const run = spawnSync('npm', ['run', '--silent', 'lock:python', '--', copy], { encoding: 'utf8' });

    // Assess
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(readFileSync(copy, 'utf8')).toBe(readFileSync(REQUIREMENTS_LOCK, 'utf8'));
  }, 180_000);
});
