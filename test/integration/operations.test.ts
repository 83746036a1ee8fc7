/**
 * The operator's operations (retrigger, reprocess, list, dead-letter redrive) on the real handlers, DynamoDB
 * Local and the SQS emulator, with runs held in flight on purpose. The registry is replaced by small
 * runners over tasks A → {B, C} → D whose behaviour the transient's name chooses.
 */
import { STALE_RUN_MS } from '../../lib/domain/time';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProcessingStatus, processingStatus } from '../../lib/domain/workflow';
import { ingestTransients } from '../../lib/engine/ingest';
import { deadLettersOf, listTransients, redriveDeadLetters, reprocess, retrigger } from '../../lib/engine/operations';
import { updateTransient } from '../../lib/engine/transitions';
import { lambdaContext } from '../../lib/local/lambda-context';
import type { LocalRuntime } from '../../lib/local/runtime';
import { engineOnLocalTable } from '../helpers/engine';
import { sampleTransient, sqsRecord } from '../helpers/factories';
import { fixturesWithTasks, startTestRuntime, waitFor } from '../helpers/local-stack';

const { runners, runs, held } = vi.hoisted(() => ({
  runners: [] as import('../../lib/runner').AnyRunner[],
  runs: new Map<string, number>(),
  /** Runs waiting to be let go, by `task:transient`. */
  held: new Map<string, () => void>(),
}));

import { runner } from '../helpers/factories';

/**
 * "held-…": the first run of A waits until the test lets it go, then returns "failed" (so a result that
 * wrongly landed after a reset would show). "flaky-B": B's first run ends "failed", later ones succeed.
 */
const behave = (task: string) => async (transient: { name: string }) => {
  const key = `${task}:${transient.name}`;
  const run = (runs.get(key) ?? 0) + 1;
  runs.set(key, run);
  if (task === 'A' && transient.name.startsWith('held') && run === 1) {
    await new Promise<void>((resolve) => held.set(key, resolve));
    return 'failed';
  }
  if (transient.name === `flaky-${task}` && run === 1) return 'failed';
  return 'processed';
};
runners.push(
  runner('A', {}, { process: behave('A') }),
  runner('B', { A: 'processed' }, { process: behave('B') }),
  runner('C', { A: 'processed' }, { process: behave('C') }),
  runner('D', { B: 'processed', C: 'processed' }, { process: behave('D') }),
);
const fixtures = fixturesWithTasks(['A', 'B', 'C', 'D']);

describe('Integration: retrigger, reprocess and redrive on the local runtime', () => {
  let runtime: LocalRuntime;
  const finished = new Map<string, number>();
  const record = async (name: string) => {
    const found = await runtime.engine.store.transients.get(name);
    if (!found) throw new Error(`${name} is missing`);
    return found;
  };
  /** Waits until the registers say completed or blocked and the stored processing status says the same. */
  const settled = (name: string) =>
    waitFor(`${name} to be completed or blocked`, async () => {
      const found = await runtime.engine.store.transients.get(name);
      const status = found && processingStatus(runtime.engine.workflow, found.registers);
      return found && status !== ProcessingStatus.Processing && found.processingStatus === status && found;
    });
  const deadLetterQueueArn = (task: string) => runtime.resources.queues.find((queue) => queue.task === task)?.deadLetterArn ?? '';

  beforeAll(async () => {
    runtime = await startTestRuntime(runners, {
      fixturesDir: fixtures,
      retryBaseSeconds: 1,
      onInvocation: (functionName, outcome) => finished.set(functionName, (finished.get(functionName) ?? 0) + outcome.records),
    });
    runtime.run();
  });
  afterAll(() => runtime?.stop());

  it('reprocess while a run is in flight: the old run is refused, the new one completes the workflow', async () => {
    // Prepare: A's first run is held in flight.
    await ingestTransients(runtime.engine, [sampleTransient('held-reprocess')], { announce: true });
    await waitFor('the first run of A to start', async () => held.has('A:held-reprocess'));
    expect((await record('held-reprocess')).registers.A?.status).toBe('processing');
    const deliveriesOfA = finished.get('a') ?? 0;

    // Act
    const result = await reprocess(runtime.engine, 'held-reprocess');
    const afterReset = await settled('held-reprocess');
    held.get('A:held-reprocess')?.();
    await waitFor('the held run of A to finish', async () => (finished.get('a') ?? 0) >= deliveriesOfA + 2);
    const final = await record('held-reprocess');

    // Assess: the reset sent A again at once; its second run finished the workflow; the held run's
    // "failed" arrived last and was refused.
    expect(result).toMatchObject({ before: ProcessingStatus.Processing, inFlight: ['A'], sent: ['A'] });
    expect(result?.reset.map(({ task, from }) => `${task}:${from}`)).toEqual(['A:processing', 'B:not processed', 'C:not processed', 'D:not processed']);
    expect(afterReset.processingStatus).toBe(ProcessingStatus.Completed);
    expect(final.registers).toEqual(afterReset.registers);
    expect(final.registers.A?.status).toBe('processed');
    expect(runs.get('A:held-reprocess')).toBe(2);
    expect(['B', 'C', 'D'].map((task) => runs.get(`${task}:held-reprocess`))).toEqual([1, 1, 1]);
  });

  it('retrigger leaves a run in flight alone, and its result counts', async () => {
    await ingestTransients(runtime.engine, [sampleTransient('held-retrigger')], { announce: true });
    await waitFor('the first run of A to start', async () => held.has('A:held-retrigger'));

    const result = await retrigger(runtime.engine, 'held-retrigger');
    held.get('A:held-retrigger')?.();
    const final = await settled('held-retrigger');

    expect(result).toMatchObject({ reset: [], sent: [], inFlight: ['A'] });
    expect(final.registers.A?.status).toBe('failed');
    expect(final.processingStatus).toBe(ProcessingStatus.Blocked);
    expect(runs.get('A:held-retrigger')).toBe(1);
  });

  it('retrigger after a failure retries the failed task and finishes the workflow', async () => {
    await ingestTransients(runtime.engine, [sampleTransient('flaky-B')], { announce: true });
    const failed = await settled('flaky-B');
    expect(failed.registers.B?.status).toBe('failed');
    expect(failed.processingStatus).toBe(ProcessingStatus.Blocked);

    const result = await retrigger(runtime.engine, 'flaky-B');
    const final = await settled('flaky-B');

    expect(result).toMatchObject({ before: ProcessingStatus.Blocked, after: ProcessingStatus.Processing, reset: [{ task: 'B', from: 'failed' }], sent: ['B'] });
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    expect(['A', 'B', 'C', 'D'].map((task) => runs.get(`${task}:flaky-B`))).toEqual([1, 2, 1, 1]);
  });

  it('retrigger resets a run long dead (its lease ran out more than STALE_RUN_MS ago) and sends it again', async () => {
    // Prepare: A claimed by a run whose lease ended a second past the margin, as after a crash nobody redelivered.
    await ingestTransients(runtime.engine, [sampleTransient('died')]);
    const spec = runtime.engine.workflow.specs.get('A');
    if (!spec) throw new Error('no spec for A');
    const now = Date.now();
    const leaseUntil = now - STALE_RUN_MS - 1_000;
    const claimed = await runtime.engine.store.transients.claim('died', spec, { status: 'processing', claim: 'deadbeef.x1', attempt: 1, lastModified: leaseUntil - 60_000, leaseUntil }, now);
    expect(claimed.ok).toBe(true);

    const result = await retrigger(runtime.engine, 'died');
    const final = await settled('died');

    expect(result).toMatchObject({ reset: [{ task: 'A', from: 'processing' }], sent: ['A'], inFlight: [] });
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
  });

  it('retrigger from a clock up to STALE_RUN_MS fast never resets a live run (finding 5)', async () => {
    // Prepare: A held by a live run; the operator's clock is five minutes fast
    await ingestTransients(runtime.engine, [sampleTransient('live-skewed')]);
    const spec = runtime.engine.workflow.specs.get('A');
    if (!spec) throw new Error('no spec for A');
    const now = Date.now();
    await runtime.engine.store.transients.claim('live-skewed', spec, { status: 'processing', claim: 'feedbeef.x1', attempt: 1, lastModified: now, leaseUntil: now + 10_000 }, now);
    const fastOperator = { ...runtime.engine, clock: () => Date.now() + 5 * 60_000 };

    // Act
    const result = await retrigger(fastOperator, 'live-skewed');

    // Assess
    expect(result).toMatchObject({ reset: [], inFlight: ['A'] });
    expect((await runtime.engine.store.transients.get('live-skewed'))?.registers.A).toMatchObject({ status: 'processing', claim: 'feedbeef.x1' });
  });

  it('retrigger of a completed transient changes nothing; an unknown one is reported as such', async () => {
    await ingestTransients(runtime.engine, [sampleTransient('done')], { announce: true });
    const before = await settled('done');

    const result = await retrigger(runtime.engine, 'done');

    expect(result).toMatchObject({ before: ProcessingStatus.Completed, reset: [], sent: [] });
    expect(await record('done')).toEqual(before);
    expect(await retrigger(runtime.engine, 'never-ingested')).toBeUndefined();
    expect(await reprocess(runtime.engine, 'never-ingested')).toBeUndefined();
  });

  it('redrives dead letters to completion, removes their records, and keeps what cannot be redriven', async () => {
    // Prepare: two transients whose A message used up its deliveries, and one unreadable message.
    await ingestTransients(runtime.engine, [sampleTransient('dead-1'), sampleTransient('dead-2')]);
    const arn = deadLetterQueueArn('A');
    const deadLetter = (body: unknown, id: string) => sqsRecord(body, { messageId: id, eventSourceARN: arn, receiveCount: 3 });
    const response = (await runtime.handlers.deadLetter(
      {
        Records: [
          deadLetter({ transient: 'dead-1', task: 'A', readyAt: Date.now() }, 'd1000000-0000-4000-8000-000000000000'),
          deadLetter({ transient: 'dead-2', task: 'A', readyAt: Date.now() }, 'd2000000-0000-4000-8000-000000000000'),
          deadLetter('{not json', 'd3000000-0000-4000-8000-000000000000'),
        ],
      },
      lambdaContext('dead-letter', 60_000),
    )) as SQSBatchResponse;
    expect(response.batchItemFailures).toEqual([]);
    expect((await record('dead-1')).registers.A).toMatchObject({ status: 'failed', deadLettered: true });

    // Act
    const unknown = await redriveDeadLetters(runtime.engine, 'A', ['nobody']);
    const result = await redriveDeadLetters(runtime.engine, 'A', ['dead-1', 'message d3000000-0000-4000-8000-000000000000']);
    const final = await settled('dead-1');

    // Assess
    expect(unknown).toEqual({ redriven: [], skipped: [{ name: 'nobody', reason: 'no dead letter of "A" for this transient' }], unsent: [] });
    expect(result.redriven).toEqual(['dead-1']);
    expect(result.skipped).toEqual([{ name: 'message d3000000-0000-4000-8000-000000000000', reason: expect.stringMatching(/not JSON/) }]);
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    expect(final.registers.A).toMatchObject({ status: 'processed' });
    expect(final.registers.A?.deadLettered).toBeUndefined();
    expect((await deadLettersOf(runtime.engine, 'A')).map((letter) => letter.name).sort()).toEqual(['dead-2', 'message d3000000-0000-4000-8000-000000000000']);

    // A retrigger resets dead-2's dead-lettered register, which makes its record moot.
    const retriggered = await retrigger(runtime.engine, 'dead-2');
    expect(retriggered?.reset).toEqual([{ task: 'A', from: 'failed' }]);
    expect((await settled('dead-2')).processingStatus).toBe(ProcessingStatus.Completed);
    expect((await deadLettersOf(runtime.engine, 'A')).map((letter) => letter.name)).toEqual(['message d3000000-0000-4000-8000-000000000000']);
  });
});

describe('Function: listTransients', () => {
  it('pages through the status index oldest first, per status or all together, with no scan', async () => {
    // Prepare: seven transients, out of name order in time; two of them completed.
    const engine = await engineOnLocalTable(runners, fixtures);
    const transients = Array.from({ length: 7 }, (_, i) =>
      sampleTransient(`list-${i}`, { publicTimestamp: new Date(Date.UTC(2020, 0, 1 + ((i * 3) % 7))).toISOString() }),
    );
    await ingestTransients(engine, transients);
    for (const name of ['list-1', 'list-4']) {
      await updateTransient(engine, name, () => Object.fromEntries(['A', 'B', 'C', 'D'].map((task) => [task, { status: 'processed', lastModified: 1 }])));
    }
    const oldestFirst = [...transients].sort((a, b) => a.publicTimestamp.localeCompare(b.publicTimestamp)).map((t) => t.name);
    const names = (records: { transient: { name: string } }[]) => records.map((r) => r.transient.name);

    // Act
    const pages: string[][] = [];
    let after: string | undefined;
    do {
      const page = await listTransients(engine, { statuses: [ProcessingStatus.Processing], limit: 2, ...(after ? { after } : {}) });
      pages.push(names(page.records));
      after = page.next;
    } while (after);
    const completed = await listTransients(engine, { statuses: [ProcessingStatus.Completed], limit: 10 });
    const everything = await listTransients(engine, { limit: 7 });

    // Assess
    expect(pages).toEqual([
      oldestFirst.filter((name) => !['list-1', 'list-4'].includes(name)).slice(0, 2),
      oldestFirst.filter((name) => !['list-1', 'list-4'].includes(name)).slice(2, 4),
      oldestFirst.filter((name) => !['list-1', 'list-4'].includes(name)).slice(4),
    ]);
    expect(names(completed.records).sort()).toEqual(['list-1', 'list-4']);
    expect(completed.next).toBeUndefined();
    expect(names(everything.records)).toEqual(oldestFirst);
    expect(everything.next).toBeUndefined();
  });
});
