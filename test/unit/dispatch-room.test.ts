/**
 * The dispatcher's decision of what to send (lib/engine/dispatch.ts), on the in-memory store: no more than keeps the
 * runner's queue under its target (a batch for each concurrent poller), live work first, then Blast's oldest-first
 * rule, aged backfill work as live; what it does not send stays a ready marker for its next run.
 */
import { describe, expect, it } from 'vitest';
import { Lane, BACKFILL_AGING_MS } from '../../lib/domain/lanes';
import { dispatchReady, queueTarget } from '../../lib/engine/dispatch';
import type { Engine } from '../../lib/engine/engine';
import type { QueueDepths } from '../../lib/engine/queue-depths';
import { markerFor } from '../../lib/engine/transitions';
import { engineInMemory, recordingQueues } from '../helpers/engine';
import { runner, sampleTransient } from '../helpers/factories';
import { fixturesWithTasks } from '../helpers/local-stack';

/** A is fed by two pollers taking batches of two: its queue's target is 4 visible messages. */
const a = runner('A', {}, { settings: { maxConcurrency: 2, batchSize: 2, readyShards: 2 } });
const NOW = 1_000_000_000;
const transientAt = (name: string, day: number) => sampleTransient(name, { publicTimestamp: new Date(Date.UTC(2015, 0, day)).toISOString() });

/** Depths as SQS reports them: `visible` messages waiting (or a reading that fails). */
const depths = (visible: () => number | Error): QueueDepths => ({
  of: async () => {
    const reading = visible();
    if (reading instanceof Error) throw reading;
    return { queue: { visible: reading, inFlight: 0, delayed: 0 } };
  },
});

const setUp = async (visible: () => number | Error, markers: { name: string; day: number; lane?: Lane; readyAt?: number }[]) => {
  const { queues, sent } = recordingQueues(['A']);
  const engine: Engine = { ...engineInMemory([a], fixturesWithTasks(['A']), { queues, clock: () => NOW }), queueDepths: depths(visible) };
  await engine.store.readiness.put(
    markers.map((marker) => ({ ...markerFor(engine, transientAt(marker.name, marker.day), 'A', marker.readyAt ?? NOW, 0), ...(marker.lane === Lane.Backfill ? { lane: Lane.Backfill } : {}) })),
  );
  const dispatch = () => dispatchReady(engine, 'A', { owner: 'test', deadline: NOW + 60_000 });
  return { engine, sent, dispatch, names: () => sent.map((message) => message.transient) };
};

const live = (count: number, from = 1) => Array.from({ length: count }, (_, i) => ({ name: `live-${i + from}`, day: 10 + i + from }));

describe('Function: dispatchReady, keeping the queue shallow', () => {
  it('has a target of one batch for each concurrent poller', () => {
    expect(queueTarget(a)).toBe(4);
    expect(queueTarget(runner('B', {}))).toBe(100);
  });

  it.each([
    [0, 4],
    [3, 1],
    [4, 0],
    [9, 0],
  ])('with %i messages visible in the queue, sends %i of 10 ready, oldest first', async (visible, expected) => {
    // Prepare
    const { dispatch, names } = await setUp(() => visible, live(10));

    // Act
    const result = await dispatch();

    // Assess
    expect(result).toMatchObject({ dispatched: expected, full: true, truncated: false });
    expect(names()).toEqual(live(expected).map((marker) => marker.name));
  });

  it('never strands a marker: what one run left, the next runs send as the queue drains', async () => {
    // Prepare: the queue empties between runs, as its workers take what was sent
    const { dispatch, names } = await setUp(() => 0, live(10));

    // Act
    const runs = [await dispatch(), await dispatch(), await dispatch(), await dispatch()];

    // Assess
    expect(runs.map((run) => run.dispatched)).toEqual([4, 4, 2, 0]);
    expect(names()).toEqual(live(10).map((marker) => marker.name));
  });

  it('sends live work before backfill work, then the backfill up to the room left', async () => {
    // Prepare: backfill markers older than every live one
    const backfill = Array.from({ length: 3 }, (_, i) => ({ name: `bf-${i}`, day: 1 + i, lane: Lane.Backfill }));
    const { dispatch, names } = await setUp(() => 0, [...backfill, ...live(2)]);

    // Act
    const first = await dispatch();
    const second = await dispatch();

    // Assess
    expect(first).toMatchObject({ dispatched: 4, backfill: 2 });
    expect(names().slice(0, 4)).toEqual(['live-1', 'live-2', 'bf-0', 'bf-1']);
    expect(second).toMatchObject({ dispatched: 1, backfill: 1 });
  });

  it('sends aged backfill work as live, by its age: a backfill always makes progress', async () => {
    // Prepare: an old backfill marker that has waited past the aging, and more live work than the room
    const aged = { name: 'bf-aged', day: 1, lane: Lane.Backfill, readyAt: NOW - BACKFILL_AGING_MS - 1 };
    const { dispatch, names } = await setUp(() => 0, [aged, ...live(6)]);

    // Act
    await dispatch();

    // Assess
    expect(names()).toEqual(['bf-aged', 'live-1', 'live-2', 'live-3']);
  });

  it('sends one target at most when the depth cannot be read', async () => {
    const { dispatch } = await setUp(() => new Error('throttled'), live(10));
    expect(await dispatch()).toMatchObject({ dispatched: 4, full: true });
  });

  it('reads no more markers than the room it has, plus one probe per shard', async () => {
    const { dispatch } = await setUp(() => 2, live(40));
    const result = await dispatch();
    expect(result.dispatched).toBe(2);
    expect(result.itemsRead).toBeLessThanOrEqual(2 + 2 * a.readyShards);
  });
});
