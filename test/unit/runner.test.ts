import { describe, expect, it, vi } from 'vitest';
import { PrintProcessing } from '../../runners/examples/blast-docs-runner';
import { registry } from '../../runners/registry';
import { validateRegistry } from '../../lib/domain/validation';
import { loadCatalog } from '../../lib/fixtures/load-catalog';
import { SystemTaskRunner, type TaskContext, TransientTaskRunner, isTransientRunner } from '../../lib/runner';
import { README, allPages, examples, read } from '../helpers/docs';
import { sampleTransient } from '../helpers/factories';

const context = (): TaskContext => ({
  attempt: 1,
  runId: 'a1b2c3d4.1',
  signal: new AbortController().signal,
  logger: { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() },
  output: async () => undefined,
  save: async () => undefined,
  artifacts: { put: async () => ({ name: '', key: '', size: 0, sha256: '' }), get: async () => undefined, list: async () => [] },
});

describe('Class: TransientTaskRunner', () => {
  it("has Blast's defaults and the stack's serverless defaults", () => {
    const runner = new PrintProcessing();
    expect(runner).toMatchObject({
      frequencySeconds: 60,
      initiallyEnabled: true,
      memorySize: 512,
      timeoutSeconds: 60,
      batchSize: 10,
      maxConcurrency: 10,
      maxReceiveCount: 3,
      readyShards: 1,
    });
    expect(runner).toBeInstanceOf(TransientTaskRunner);
    expect(isTransientRunner(runner)).toBe(true);
  });

  it('lets a runner override a default', () => {
    class Slow extends SystemTaskRunner {
      readonly taskName = 'Prune';
      override readonly frequencySeconds = 3600;
      override readonly initiallyEnabled = false;
      process() {}
    }
    expect(new Slow()).toMatchObject({ frequencySeconds: 3600, initiallyEnabled: false, timeoutSeconds: 60 });
    expect(isTransientRunner(new Slow())).toBe(false);
  });
});

describe("The docs' runner example", () => {
  const EXAMPLE = 'runners/examples/blast-docs-runner.ts';

  it('is the very code the README and every docs page that shows it show', () => {
    // Prepare: every block marked `<!-- example: FILE -->`, wherever a reader meets it
    const shown = allPages().flatMap((page) => examples(read(page)).map((example) => ({ page, ...example })));

    // Assess
    expect(shown.filter(({ file }) => file === EXAMPLE).map(({ page }) => page)).toEqual(expect.arrayContaining([README, 'docs/writing-runners.md']));
    for (const { page, file, block } of shown) expect(block, `${page}: the block marked ${file}`).toBe(read(file));
  });

  it('is valid against the fixtures when registered in place of Host information', () => {
    const runners = [...registry.filter((runner) => runner.taskName !== 'Host information'), new PrintProcessing()];
    expect(validateRegistry(loadCatalog('fixtures'), runners).issues).toEqual([]);
  });

  it('prints "processing" and returns "processed", as in Blast\'s docs', async () => {
    const ctx = context();
    await expect(Promise.resolve(new PrintProcessing().process(sampleTransient(), ctx))).resolves.toBe('processed');
    expect(ctx.logger.info).toHaveBeenCalledWith('processing', { transient: '2010H' });
  });
});
