/**
 * At-least-once in, effectively-once out: duplicate and concurrent deliveries, overlapping dispatcher runs,
 * runners that throw or return nonsense, and poison messages, through the real handlers on DynamoDB Local
 * and the SQS emulator. The registry is replaced by small counting runners over tasks A → {B, C} → D.
 */
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ingestTransients } from '../../lib/engine/ingest';
import { ProcessingStatus } from '../../lib/domain/workflow';
import { lambdaContext } from '../../lib/local/lambda-context';
import type { LocalRuntime } from '../../lib/local/runtime';
import { sampleTransient, sqsRecord } from '../helpers/factories';
import { drainQueue, fixturesWithTasks, startTestRuntime, waitFor } from '../helpers/local-stack';

const { runners, runs } = vi.hoisted(() => {
  const runs = new Map<string, number>();
  return { runs, runners: [] as import('../../lib/runner').AnyRunner[] };
});

import { NonRetryableTaskError } from '../../lib/domain/errors';
import { runner } from '../helpers/factories';

/** Each runner counts its runs; the transient's name chooses a misbehaviour. */
const behave = (task: string) => async (transient: { name: string }) => {
  const key = `${task}:${transient.name}`;
  runs.set(key, (runs.get(key) ?? 0) + 1);
  if (transient.name.startsWith('slow')) await new Promise((resolve) => setTimeout(resolve, 400));
  if (transient.name === `throws-${task}`) throw new Error(`${task} exploded`);
  if (transient.name === `gives-up-${task}`) throw new NonRetryableTaskError(`${task} cannot work on this transient`);
  if (transient.name === `nonsense-${task}`) return 'banana';
  return 'processed';
};
runners.push(
  runner('A', {}, { process: behave('A'), settings: { maxReceiveCount: 2 } }),
  runner('B', { A: 'processed' }, { process: behave('B'), settings: { maxReceiveCount: 2 } }),
  runner('C', { A: 'processed' }, { process: behave('C'), settings: { maxReceiveCount: 2 } }),
  runner('D', { B: 'processed', C: 'processed' }, { process: behave('D'), settings: { maxReceiveCount: 2 } }),
);

const message = (transient: string, task: string) => ({ transient, task, readyAt: Date.now() });

describe('Integration: deliveries, duplicates and failures', () => {
  let runtime: LocalRuntime;
  const invokeWorker = (records: ReturnType<typeof sqsRecord>[]) =>
    runtime.handlers.transientWorker({ Records: records }, lambdaContext('worker', 60_000)) as Promise<SQSBatchResponse>;
  const finished = (name: string) =>
    waitFor(`${name} to finish`, async () => {
      const record = await runtime.engine.store.transients.get(name);
      return record && record.processingStatus !== ProcessingStatus.Processing && record;
    });

  beforeAll(async () => {
    runtime = await startTestRuntime(runners, { fixturesDir: fixturesWithTasks(['A', 'B', 'C', 'D']), retryBaseSeconds: 1 });
  });
  afterAll(() => runtime?.stop());

  it('runs a message delivered twice only once', async () => {
    // Prepare
    await ingestTransients(runtime.engine, [sampleTransient('twice')]);
    const record = sqsRecord(message('twice', 'A'));

    // Act
    const first = await invokeWorker([record]);
    const second = await invokeWorker([{ ...record, receiptHandle: 'another', attributes: { ...record.attributes, ApproximateReceiveCount: '2' } }]);

    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    expect(runs.get('A:twice')).toBe(1);
    expect((await runtime.engine.store.transients.get('twice'))?.registers.A).toMatchObject({ status: 'processed', attempt: 1 });
  });

  it('runs a message delivered twice at the same time only once, and has the second copy come back later', async () => {
    await ingestTransients(runtime.engine, [sampleTransient('slow-concurrent')]);
    const record = sqsRecord(message('slow-concurrent', 'A'), { messageId: 'f00dfeed-1111-4000-8000-000000000000' });

    const [one, other] = await Promise.all([
      invokeWorker([record]),
      invokeWorker([{ ...record, receiptHandle: 'concurrent', attributes: { ...record.attributes, ApproximateReceiveCount: '2' } }]),
    ]);

    expect(runs.get('A:slow-concurrent')).toBe(1);
    expect([...one.batchItemFailures, ...other.batchItemFailures]).toEqual([{ itemIdentifier: record.messageId }]);
    expect((await runtime.engine.store.transients.get('slow-concurrent'))?.registers.A?.status).toBe('processed');
  });

  it('never runs one transient twice when two dispatcher runs overlap', async () => {
    // Prepare: 25 transients whose first task is only in the ready index (nothing sent yet).
    const names = Array.from({ length: 25 }, (_, i) => `overlap-${i}`);
    await ingestTransients(runtime.engine, names.map((name, i) => sampleTransient(name, { publicTimestamp: new Date(Date.UTC(2020, 0, 1 + i)).toISOString() })));
    const queue = runtime.resources.queues.find((candidate) => candidate.task === 'A');

    // Act
    const results = await Promise.all([0, 1].map(() => runtime.handlers.dispatcher({ task: 'A' }, lambdaContext('dispatcher', 60_000))));
    const sent = await drainQueue(queue?.url ?? '');

    // Assess: every ready transient went out once (the earlier tests' transients were ready too).
    const dispatched = (results as { dispatched: number }[]).reduce((sum, result) => sum + result.dispatched, 0);
    const transients = sent.map((m) => JSON.parse(m.Body ?? '{}').transient as string);
    expect(dispatched).toBe(transients.length);
    expect(new Set(transients).size).toBe(transients.length);
    expect(transients.filter((name) => name.startsWith('overlap-')).sort()).toEqual([...names].sort());
  });

  it('retries a runner that throws, then records its failed status and blocks what depends on it', async () => {
    // Prepare
    runtime.run();

    // Act
    await ingestTransients(runtime.engine, [sampleTransient('throws-B')], { announce: true });
    const record = await finished('throws-B');

    // Assess: B ran once per delivery (maxReceiveCount 2), recorded "failed" with its error; D is blocked.
    expect(runs.get('B:throws-B')).toBe(2);
    expect(record.registers.B).toMatchObject({ status: 'failed', attempt: 2, lastError: 'Error: B exploded' });
    expect(record.registers.C?.status).toBe('processed');
    expect(record.registers.D?.status).toBe('not processed');
    expect(record.processingStatus).toBe(ProcessingStatus.Blocked);
    expect(runs.get('D:throws-B')).toBeUndefined();
  });

  it('records the failed status at once for a non-retryable error', async () => {
    await ingestTransients(runtime.engine, [sampleTransient('gives-up-C')], { announce: true });
    const record = await finished('gives-up-C');
    expect(runs.get('C:gives-up-C')).toBe(1);
    expect(record.registers.C).toMatchObject({ status: 'failed', attempt: 1, lastError: 'NonRetryableTaskError: C cannot work on this transient' });
  });

  it('records the failed status, with the reason, when a runner returns a status not in the fixtures', async () => {
    await ingestTransients(runtime.engine, [sampleTransient('nonsense-A')], { announce: true });
    const record = await finished('nonsense-A');
    expect(record.registers.A?.status).toBe('failed');
    expect(record.registers.A?.lastError).toMatch(/returned "banana", which is not a success or error status/);
    expect(runs.get('A:nonsense-A')).toBe(1);
  });

  it('fails only the poison message of a batch, not the rest', async () => {
    await ingestTransients(runtime.engine, [sampleTransient('beside-poison')]);
    const good = sqsRecord(message('beside-poison', 'A'), { messageId: 'aaaa0000-0000-4000-8000-000000000000' });
    const notJson = sqsRecord('{not json', { messageId: 'bbbb0000-0000-4000-8000-000000000000' });
    const unknownRunner = sqsRecord(message('beside-poison', 'Z'), { messageId: 'cccc0000-0000-4000-8000-000000000000' });

    const response = await invokeWorker([good, notJson, unknownRunner]);

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual([notJson.messageId, unknownRunner.messageId]);
    expect((await runtime.engine.store.transients.get('beside-poison'))?.registers.A?.status).toBe('processed');
  });
});
