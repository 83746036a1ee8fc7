/**
 * Principle 5 on the local runtime: a run that never returns is retried by SQS redelivery, and once its
 * message has used up maxReceiveCount deliveries, the dead-letter handler records "time limit exceeded".
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ingestTransients } from '../../lib/engine/ingest';
import { ProcessingStatus } from '../../lib/domain/workflow';
import type { LocalRuntime } from '../../lib/local/runtime';
import { runner, sampleTransient } from '../helpers/factories';
import { fixturesWithTasks, startTestRuntime, waitFor } from '../helpers/local-stack';

const { runners, runs } = vi.hoisted(() => ({ runners: [] as import('../../lib/runner').AnyRunner[], runs: { count: 0 } }));

// A 1 s function timeout (so a 6 s visibility timeout) and two deliveries; the runner never finishes in time.
runners.push(
  runner(
    'Stuck',
    {},
    {
      process: async () => {
        runs.count++;
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        return 'processed';
      },
      settings: { timeoutSeconds: 1, maxReceiveCount: 2 },
    },
  ),
  runner('After', { Stuck: 'processed' }),
);

describe('Integration: runs that time out', () => {
  let runtime: LocalRuntime;

  beforeAll(async () => {
    runtime = await startTestRuntime(runners, { fixturesDir: fixturesWithTasks(['Stuck', 'After']) });
    runtime.run();
  });
  afterAll(() => runtime?.stop());

  it('retries a run that outlives its timeout, then records "time limit exceeded" and keeps the dead letter', async () => {
    // Act
    await ingestTransients(runtime.engine, [sampleTransient('sn-stuck')], { announce: true });
    // The register is written first, then the dead-letter record: wait for both.
    const record = await waitFor(
      'the dead-letter handler to record the timeout',
      async () => {
        const found = await runtime.engine.store.transients.get('sn-stuck');
        const filed = (await runtime.engine.store.deadLetters.page('Stuck', 100)).items.length > 0;
        return found?.registers.Stuck?.status === 'time limit exceeded' && filed && found;
      },
      40_000,
    );

    // Assess: two deliveries ran and neither result was recorded past the deadline.
    expect(runs.count).toBe(2);
    expect(record.registers.Stuck).toMatchObject({ status: 'time limit exceeded', attempt: 2, deadLettered: true });
    expect(record.registers.After?.status).toBe('not processed');
    expect(record.processingStatus).toBe(ProcessingStatus.Blocked);
    const { items: records } = await runtime.engine.store.deadLetters.page('Stuck', 100);
    expect(records).toEqual([
      expect.objectContaining({ name: 'sn-stuck', receiveCount: 2, reason: expect.stringMatching(/recorded "time limit exceeded"/) }),
    ]);
  }, 60_000);
});
