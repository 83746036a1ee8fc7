/** The dispatcher on DynamoDB Local: reads only ready work, in Blast's priority order, across shards and pages. */
import { describe, expect, it } from 'vitest';
import { dispatchReady } from '../../lib/engine/dispatch';
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

    expect(result).toEqual({ task: 'B', dispatched: 0, backfill: 0, itemsRead: 0, skipped: false, truncated: false });
  });
});
