/**
 * A waiting retry holds its task for the message that failed: another copy of the message (a duplicate, or
 * the ingest's send racing a dispatcher run) cannot skip the backoff, and once the retry is due anyone may
 * take the task. The worker on DynamoDB Local, with the engine's clock in the test's hands.
 */
import { describe, expect, it } from 'vitest';
import { ingestTransients } from '../../lib/engine/ingest';
import { type Delivery, RetryLaterError, processDelivery } from '../../lib/engine/worker';
import { engineOnLocalTable, recordingQueues } from '../helpers/engine';
import { runner, sampleTransient } from '../helpers/factories';
import { fixturesWithTasks } from '../helpers/local-stack';
import { Logger } from '@aws-lambda-powertools/logger';

const fixtures = fixturesWithTasks(['A', 'B']);
const START = Date.UTC(2026, 0, 1);

/** A throws on its first run for each transient, then succeeds. */
const setUp = async () => {
  const runs: string[] = [];
  const runners = [
    runner('A', {}, {
      process: (transient) => {
        runs.push(transient.name);
        if (runs.filter((name) => name === transient.name).length === 1) throw new Error('first try fails');
        return 'processed';
      },
    }),
    runner('B', { A: 'processed' }),
  ];
  let now = START;
  const engine = await engineOnLocalTable(runners, fixtures, { queues: recordingQueues(['A', 'B']).queues, clock: () => now });
  const deliver = (messageId: string, name: string, receiveCount = 1): Promise<void> => {
    const delivery: Delivery = { messageId, receiptHandle: `h-${messageId}-${receiveCount}`, body: JSON.stringify({ transient: name, task: 'A', readyAt: START }), receiveCount };
    return processDelivery(engine, delivery, { deadline: now + 60_000, logger: new Logger({ logLevel: 'SILENT' }) });
  };
  return { engine, runs, deliver, advance: (ms: number) => (now += ms), now: () => now };
};

const FIRST = '11111111-0000-4000-8000-000000000000';
const COPY = '22222222-0000-4000-8000-000000000000';

describe('Integration: a waiting retry holds its task', () => {
  it('drops another copy of the message while the retry waits, and lets the failed message run it again', async () => {
    // Prepare: the first delivery fails and waits for its retry
    const { engine, runs, deliver, advance } = await setUp();
    await ingestTransients(engine, [sampleTransient('sn')]);
    await expect(deliver(FIRST, 'sn')).rejects.toThrow(RetryLaterError);
    const waiting = (await engine.store.transients.get('sn'))?.registers.A;

    // Act: a copy arrives before the retry is due, then the failed message comes back
    advance(100);
    await deliver(COPY, 'sn');
    const afterCopy = (await engine.store.transients.get('sn'))?.registers.A;
    advance(100);
    await deliver(FIRST, 'sn', 2);

    // Assess
    expect(waiting).toMatchObject({ status: 'not processed', attempt: 1, lastError: 'Error: first try fails', retryAt: expect.any(Number) });
    expect(waiting?.retryAt).toBeGreaterThan(START + 100);
    expect(afterCopy).toEqual(waiting);
    expect(runs).toEqual(['sn', 'sn']);
    expect((await engine.store.transients.get('sn'))?.registers.A).toMatchObject({ status: 'processed', attempt: 2 });
  });

  it('lets another message take the task once the retry is due', async () => {
    // Prepare
    const { engine, runs, deliver, advance } = await setUp();
    await ingestTransients(engine, [sampleTransient('sn')]);
    await expect(deliver(FIRST, 'sn')).rejects.toThrow(RetryLaterError);
    const retryAt = (await engine.store.transients.get('sn'))?.registers.A?.retryAt ?? Infinity;

    // Act
    advance(retryAt - START + 1);
    await deliver(COPY, 'sn');

    // Assess
    expect(runs).toEqual(['sn', 'sn']);
    expect((await engine.store.transients.get('sn'))?.registers.A).toMatchObject({ status: 'processed', claim: expect.stringMatching(new RegExp(`^${COPY.slice(0, 8)}\\.`)) });
  });
});
