/** The dispatcher on DynamoDB Local: reads only ready work, in Blast's priority order, across shards and pages. */
import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, inject, it } from 'vitest';
import { dispatchReady } from '../../lib/engine/dispatch';
import { localClientConfig } from '../../lib/local/services';
import { sqsQueueDepths } from '../../lib/queue/queue-depths';
import { taskQueues } from '../../lib/queue/task-queues';
import { ingestTransients } from '../../lib/engine/ingest';
import { engineOnLocalTable, recordingQueues } from '../helpers/engine';
import { runner, sampleTransient } from '../helpers/factories';
import { fixturesWithTasks } from '../helpers/local-stack';

const runners = [runner('A', {}, { settings: { readyShards: 4 } }), runner('B', { A: 'processed' })];
const fixtures = fixturesWithTasks(['A', 'B']);
/** 40 transients whose public timestamps are deliberately out of name order. */
const transients = Array.from({ length: 40 }, (_, i) =>
  sampleTransient(`sn-${String(i).padStart(2, '0')}`, { publicTimestamp: new Date(Date.UTC(2015, 0, 1 + ((i * 17) % 40))).toISOString() }),
);
const byPriority = [...transients].sort((a, b) => a.publicTimestamp.localeCompare(b.publicTimestamp)).map((t) => t.name);

describe('Function: dispatchReady', () => {
  it('sends every ready transient once, oldest public timestamp first, across shards and pages', async () => {
    // Prepare
    const { queues, sent } = recordingQueues(['A']);
    const engine = await engineOnLocalTable(runners, fixtures, { queues });
    await ingestTransients(engine, transients);

    // Act
    const result = await dispatchReady(engine, 'A', { owner: 'test', deadline: Date.now() + 30_000, pageSize: 3, roundSize: 7 });
    const again = await dispatchReady(engine, 'A', { owner: 'test', deadline: Date.now() + 30_000 });

    // Assess
    expect(sent.map((message) => message.transient)).toEqual(byPriority);
    expect(result).toMatchObject({ dispatched: 40, skipped: false, truncated: false });
    // One probe item per non-empty shard is read twice; everything else once.
    expect(result.itemsRead).toBeLessThanOrEqual(40 + 4);
    expect(again).toMatchObject({ dispatched: 0, itemsRead: 0 });
  });

  it('keeps the markers of messages SQS refused, for the next run', async () => {
    const refusals = new Set(['sn-03', 'sn-31']);
    const first = recordingQueues(['A'], (message) => refusals.has(message.transient));
    const engine = await engineOnLocalTable(runners, fixtures, { queues: first.queues });
    await ingestTransients(engine, transients);

    const result = await dispatchReady(engine, 'A', { owner: 'test', deadline: Date.now() + 30_000 });
    const second = recordingQueues(['A']);
    const retry = await dispatchReady({ ...engine, queues: second.queues }, 'A', { owner: 'test', deadline: Date.now() + 30_000 });

    expect(result.dispatched).toBe(38);
    expect(retry.dispatched).toBe(2);
    expect(second.sent.map((message) => message.transient).sort()).toEqual([...refusals].sort());
  });

  it('leaves the work to an overlapping run that holds the lock', async () => {
    const { queues, sent } = recordingQueues(['A']);
    const engine = await engineOnLocalTable(runners, fixtures, { queues });
    await ingestTransients(engine, transients.slice(0, 5));
    await engine.store.locks.acquire('A', 'other-run', { until: Date.now() + 60_000, expiredBefore: Date.now() });

    const result = await dispatchReady(engine, 'A', { owner: 'test', deadline: Date.now() + 30_000 });

    expect(result).toMatchObject({ dispatched: 0, skipped: true });
    expect(sent).toEqual([]);
  });

  it('stops at its deadline and leaves the rest for the next tick', async () => {
    const { queues, sent } = recordingQueues(['A']);
    const engine = await engineOnLocalTable(runners, fixtures, { queues });
    await ingestTransients(engine, transients);

    const result = await dispatchReady(engine, 'A', { owner: 'test', deadline: Date.now() - 1 });

    expect(result).toMatchObject({ dispatched: 0, truncated: true });
    expect(sent).toEqual([]);
  });

  it('does not take the lock when nothing is ready', async () => {
    const { queues } = recordingQueues(['A', 'B']);
    const engine = await engineOnLocalTable(runners, fixtures, { queues });
    await engine.store.locks.acquire('B', 'someone-else', { until: Date.now() + 60_000, expiredBefore: Date.now() });

    const result = await dispatchReady(engine, 'B', { owner: 'test', deadline: Date.now() + 30_000 });

    expect(result).toEqual({ task: 'B', dispatched: 0, backfill: 0, itemsRead: 0, skipped: false, truncated: false, full: false });
  });

  it('keeps a queue of the SQS emulator shallow: sends up to its target, the rest as its workers drain it', async () => {
    // Prepare: A's queue on the emulator, fed by two pollers of batches of two (a target of 4 visible messages)
    const sqs = new SQSClient(localClientConfig(inject('sqsEndpoint')));
    const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: `shallow-${process.pid}-${Date.now().toString(36)}` }));
    const small = [runner('A', {}, { settings: { readyShards: 4, maxConcurrency: 2, batchSize: 2 } }), runners[1] ?? runner('B', {})];
    const urls = { A: QueueUrl };
    const engine = await engineOnLocalTable(small, fixtures, { queues: taskQueues(sqs, urls), queueDepths: sqsQueueDepths(sqs, urls) });
    await ingestTransients(engine, transients.slice(0, 10), { announce: false });
    const dispatch = () => dispatchReady(engine, 'A', { owner: 'test', deadline: Date.now() + 30_000 });
    const visible = async () => Number((await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes?.ApproximateNumberOfMessages);
    const received: string[] = [];
    const drain = async () => {
      for (;;) {
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
        if (Messages.length === 0) return;
        received.push(...Messages.map((message) => (JSON.parse(message.Body ?? '{}') as { transient: string }).transient));
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: Messages.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle ?? '' })) }));
      }
    };

    try {
      // Act: a run; another while the queue is full; then runs as its workers take what was sent
      const first = await dispatch();
      const depthAfterFirst = await visible();
      const whileFull = await dispatch();
      await drain();
      const second = await dispatch();
      await drain();
      const third = await dispatch();
      await drain();

      // Assess: never more than the target in the queue, oldest first, every ready transient sent once
      expect(first).toMatchObject({ dispatched: 4, full: true });
      expect(depthAfterFirst).toBe(4);
      expect(whileFull).toMatchObject({ dispatched: 0, full: true });
      expect([second.dispatched, third.dispatched]).toEqual([4, 2]);
      const oldestTen = [...transients.slice(0, 10)].sort((a, b) => a.publicTimestamp.localeCompare(b.publicTimestamp)).map((t) => t.name);
      // (A standard queue keeps no order: each run's four are the next four oldest.)
      const chunks = (names: string[]) => [names.slice(0, 4), names.slice(4, 8), names.slice(8)].map((chunk) => [...chunk].sort());
      expect(chunks(received)).toEqual(chunks(oldestTen));
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    }
  });
});
