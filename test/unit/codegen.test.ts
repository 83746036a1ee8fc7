import { copyFileSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_FIXTURES_MODULE, renderFixtureConstants } from '../../lib/fixtures/codegen';
import { STATUS_FIXTURE, TASK_FIXTURE, loadCatalog } from '../../lib/fixtures/load-catalog';
import { allPages } from '../helpers/docs';

describe('Function: renderFixtureConstants', () => {
  it(`renders ${GENERATED_FIXTURES_MODULE} as committed, whichever folder the same fixtures are read from`, () => {
    // Prepare: the project's fixtures, copied elsewhere (as `--fixtures DIR` reads them)
    const dir = mkdtempSync(join(tmpdir(), 'fixtures-copy-'));
    for (const name of [STATUS_FIXTURE, TASK_FIXTURE]) copyFileSync(join('fixtures', name), join(dir, name));

    // Act
    const [here, there] = [loadCatalog('fixtures'), loadCatalog(dir)].map(renderFixtureConstants);

    // Assess
    expect(there).toBe(here);
    expect(here).toBe(readFileSync(GENERATED_FIXTURES_MODULE, 'utf8'));
  });
});

describe('package.json', () => {
  /** Every file a user reads a command from: the README, the docs, and the sources whose messages name commands. */
  const sources = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
    });

  it('has every `npm run` script the README, the docs, the messages and the comments tell a user to run', () => {
    // Prepare
    const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    const files = [...allPages(), ...['bin', 'lib', 'functions', 'runners', 'bench'].flatMap(sources)];

    // Act
    const named = new Set(files.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/npm run ([a-z][\w:-]*)/g)].map((match) => match[1] ?? '')));

    // Assess
    expect(named).toContain('generate');
    expect(named).toContain('typecheck'); // named only in docs/testing.md
    expect([...named].filter((script) => !(script in scripts))).toEqual([]);
  });
});
