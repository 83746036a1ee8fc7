/**
 * Issue 11, findings 1, 4, 5 and 6 on the engine itself, on DynamoDB Local: every write of a run is fenced by
 * its claim token (not by a clock), a ready marker is deleted only as the one that was sent, time decides
 * liveness only with the tolerated skew built in, and inputs over DynamoDB's limits are refused alone.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { MAX_CLOCK_SKEW_MS } from '../../lib/domain/time';
import { dispatchReady } from '../../lib/engine/dispatch';
import { ingestTransients } from '../../lib/engine/ingest';
import { outputOf, reprocess } from '../../lib/engine/operations';
import { markerFor } from '../../lib/engine/transitions';
import { upsertTransients } from '../../lib/engine/upsert';
import { type Delivery, RetryLaterError, processDelivery } from '../../lib/engine/worker';
import type { TaskContext } from '../../lib/runner';
import { engineOnLocalTable, recordingQueues } from '../helpers/engine';
import { runner, sampleTransient } from '../helpers/factories';
import { fixturesWithTasks } from '../helpers/local-stack';

const fixtures = fixturesWithTasks(['A', 'B']);
const logger = new Logger({ logLevel: 'SILENT' });
const delivery = (messageId: string, body: Record<string, unknown>, receiveCount = 1): Delivery => ({
  messageId,
  receiptHandle: `h-${messageId}-${receiveCount}`,
  body: JSON.stringify({ task: 'A', readyAt: 1, ...body }),
  receiveCount,
});

/** Runs of A wait at their gate (if the test set one for them) before they save their output and finish. */
const gatedRunners = () => {
  const gates = new Map<string, Promise<void>>();
  const runs: string[] = [];
  const runners = [
    runner('A', {}, {
      process: async (_transient, context: TaskContext) => {
        runs.push(context.runId);
        await gates.get(context.runId.split('.')[0] ?? '');
        await context.save({ by: context.runId });
        return 'processed';
      },
      settings: { timeoutSeconds: 1 },
    }),
    runner('B', { A: 'processed' }),
  ];
  return { runners, gates, runs };
};

describe('Integration: fencing by token and bounded inputs', () => {
  it('finding 1: the identical record invoked twice at once runs once; the second invocation neither runs nor undoes the first', async () => {
    // Prepare
    const { runners, gates, runs } = gatedRunners();
    const engine = await engineOnLocalTable(runners, fixtures, { queues: recordingQueues(['A', 'B']).queues });
    await ingestTransients(engine, [sampleTransient('sn')]);
    let release = () => undefined as void;
    gates.set('aaaaaaaa', new Promise((resolve) => (release = () => resolve())));
    const record = delivery('aaaaaaaa-0000-4000-8000-000000000000', { transient: 'sn' });

    // Act: the same record, same message id and receive count, in two invocations at once
    const first = processDelivery(engine, record, { deadline: Date.now() + 60_000, logger });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = processDelivery(engine, record, { deadline: Date.now() + 60_000, logger }).catch((error: unknown) => error);
    const refused = await second;
    release();
    await first;

    // Assess
    expect(refused).toBeInstanceOf(RetryLaterError);
    expect(runs).toHaveLength(1);
    expect((await engine.store.transients.get('sn'))?.registers.A).toMatchObject({ status: 'processed', claim: runs[0] });
  });

  it("finding 4: a marker written again between the dispatcher's send and its delete survives the delete", async () => {
    // Prepare: A is ready for sn, as a marker; while the dispatcher sends it, something records A ready again
    const { queues, sent } = recordingQueues(['A', 'B']);
    const engine = await engineOnLocalTable([runner('A', {}), runner('B', { A: 'processed' })], fixtures, { queues });
    await ingestTransients(engine, [sampleTransient('sn')], { announce: false });
    const racing = {
      ...engine,
      queues: {
        ...queues,
        send: async (task: string, messages: Parameters<typeof queues.send>[1]) => {
          const refused = await queues.send(task, messages);
          await engine.store.readiness.put([markerFor(engine, sampleTransient('sn'), 'A', Date.now(), 1)]);
          return refused;
        },
      },
    };

    // Act
    const result = await dispatchReady(racing, 'A', { owner: 'run-1', deadline: Date.now() + 10_000 });

    // Assess: the marker sent is gone, the one written meanwhile is still there for the next run
    expect(result.dispatched).toBe(1);
    expect(sent).toHaveLength(1);
    const { items: markers } = await engine.store.readiness.page('A', 0, 10);
    expect(markers).toEqual([expect.objectContaining({ name: 'sn', task: 'A', generation: 1 })]);
  });

  it('finding 5: a run that lost its claim cannot replace the output later tasks read, however fast its clock', async () => {
    // Prepare: run 1 claims A on a host whose clock is ten seconds fast, and waits
    const { runners, gates } = gatedRunners();
    const engine = await engineOnLocalTable(runners, fixtures, { queues: recordingQueues(['A', 'B']).queues });
    await ingestTransients(engine, [sampleTransient('sn')]);
    const fast = { ...engine, clock: () => Date.now() + 10_000 };
    let release = () => undefined as void;
    gates.set('11111111', new Promise((resolve) => (release = () => resolve())));
    const first = processDelivery(fast, delivery('11111111-0000-4000-8000-000000000000', { transient: 'sn' }), { deadline: Date.now() + 60_000, logger });
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Act: a reprocess drops run 1's claim; run 2 (the reprocess's message) runs A and saves its output; then run 1
    // saves its own, later, and tries to record its result
    await reprocess(engine, 'sn');
    await processDelivery(engine, delivery('22222222-0000-4000-8000-000000000000', { transient: 'sn', g: 1 }), { deadline: Date.now() + 60_000, logger });
    const recorded = (await engine.store.transients.get('sn'))?.registers.A;
    release();
    await first;

    // Assess: the register and the output are run 2's
    expect(recorded).toMatchObject({ status: 'processed', generation: 1 });
    expect((await engine.store.transients.get('sn'))?.registers.A).toEqual(recorded);
    expect(await outputOf(engine, 'sn', 'A')).toEqual({ by: recorded?.claim });
  });

  it('finding 5: a redelivery on a host whose clock runs ahead (within the tolerance) does not take over a live run', async () => {
    // Prepare: run 1 (timeout 1 s) claims A and keeps going
    const { runners, gates } = gatedRunners();
    const engine = await engineOnLocalTable(runners, fixtures, { queues: recordingQueues(['A', 'B']).queues });
    await ingestTransients(engine, [sampleTransient('sn')]);
    let release = () => undefined as void;
    gates.set('33333333', new Promise((resolve) => (release = () => resolve())));
    const message = '33333333-0000-4000-8000-000000000000';
    const first = processDelivery(engine, delivery(message, { transient: 'sn' }), { deadline: Date.now() + 60_000, logger });
    await new Promise((resolve) => setTimeout(resolve, 1_200));

    // Act: past the run's timeout, the message comes back to a host whose clock is nearly the tolerance ahead
    const ahead = { ...engine, clock: () => Date.now() + MAX_CLOCK_SKEW_MS - 500 };
    const redelivered = await processDelivery(ahead, delivery(message, { transient: 'sn' }, 2), { deadline: Date.now() + 60_000, logger }).catch((error: unknown) => error);
    release();
    await first;

    // Assess: it came back later instead of running beside the live run
    expect(redelivered).toBeInstanceOf(RetryLaterError);
    expect((await engine.store.transients.get('sn'))?.registers.A).toMatchObject({ status: 'processed', attempt: 1 });
  });

  it('finding 6: a row over the ingest limits (a 500 KB class) is rejected alone, with its reason, and the rest of its batch is ingested', async () => {
    const engine = await engineOnLocalTable([runner('A', {}), runner('B', { A: 'processed' })], fixtures, { queues: recordingQueues(['A', 'B']).queues });
    const oversized = sampleTransient('big', { spectroscopicClass: 'x'.repeat(500_000) });

    const ingested = await ingestTransients(engine, [sampleTransient('good-1'), oversized, sampleTransient('good-2')]);
    const upserted = await upsertTransients(engine, [sampleTransient('good-3'), { ...oversized, name: 'big-2' }, sampleTransient('good-1', { raDeg: 10 })]);

    expect(ingested).toMatchObject({ created: 2, rejected: [{ name: 'big', reason: 'class is longer than 64 characters' }] });
    expect(upserted).toMatchObject({ created: 1, updated: 1, rejected: [{ name: 'big-2', reason: 'class is longer than 64 characters' }] });
    expect((await engine.store.transients.getMany(['good-1', 'good-2', 'good-3', 'big'])).map((record) => record.transient.name).sort()).toEqual(['good-1', 'good-2', 'good-3']);
  });

  it('finding 6: a message naming a transient over the key limit is poison, not a retry that fails every time', async () => {
    const engine = await engineOnLocalTable([runner('A', {}), runner('B', { A: 'processed' })], fixtures, { queues: recordingQueues(['A', 'B']).queues });

    const outcome = await processDelivery(engine, delivery('44444444-0000-4000-8000-000000000000', { transient: 'n'.repeat(1_100) }), { deadline: Date.now() + 60_000, logger }).catch(
      (error: unknown) => error,
    );

    expect(outcome).toMatchObject({ name: 'PoisonMessageError', message: expect.stringMatching(/name is longer than 120 characters/) });
  });
});
