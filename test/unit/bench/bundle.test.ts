/** The benchmark's bundles of the Lambda entry points, with the registry it names in place of the project's. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HANDLER_ENTRIES, bundleHandlers } from '../../../bench/bundle';

describe('Benchmark bundles', () => {
  it('run the registry module they are given, in every entry point, and the project registry otherwise', async () => {
    // Prepare
    const [given, standard] = [mkdtempSync(join(tmpdir(), 'bench-noop-')), mkdtempSync(join(tmpdir(), 'bench-example-'))];

    // Act
    await Promise.all([bundleHandlers(given, 'bench/noop-registry.ts'), bundleHandlers(standard)]);

    // Assess: esbuild names each bundled module in a comment (the no-op runners import the example's, to copy them)
    for (const name of Object.keys(HANDLER_ENTRIES)) {
      const [noop, example] = [given, standard].map((dir) => readFileSync(join(dir, `${name}.mjs`), 'utf8'));
      expect(noop?.includes('// bench/noop-registry.ts')).toBe(true);
      expect([example?.includes('// bench/noop-registry.ts'), example?.includes('// runners/registry.ts')]).toEqual([false, true]);
    }
  }, 60_000);
});
