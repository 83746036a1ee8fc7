/**
 * The dispatcher: reads one task's ready markers by lane (live before backfill, lib/domain/lanes.ts) and then in
 * Blast's priority order (oldest public timestamp first, merged across shards), sends them to the task's queue in
 * batches, and deletes what it sent. It keeps the runner's queue shallow: it sends no more than the room under the
 * queue's target (`queueTarget`, a batch for each of the runner's concurrent pollers) less the messages it holds
 * now, and of those no more backfill markers per run than the runner's concurrency, so neither a backlog nor a
 * backfill fills the queue ahead of fresh work; a backfill marker that has waited BACKFILL_AGING_MS counts as live.
 * What it does not send stays a ready marker for its next run. It reads only ready work (principle 2) and pages
 * through, so memory stays flat however long the backlog.
 */
import { ConfigError } from '../domain/errors';
import { Lane, laneRank } from '../domain/lanes';
import { MAX_CLOCK_SKEW_MS } from '../domain/time';
import type { PageCursor, ReadyMarker } from './store';
import { Metric } from './telemetry';
import { type Engine, transientRunner } from './engine';
import type { TransientTaskRunner } from '../runner';

export interface DispatchOptions {
  /** Identifies this run in the dispatch lock. */
  readonly owner: string;
  /** Epoch ms by which the run must stop (its function's timeout, less a margin). */
  readonly deadline: number;
  /** Markers read per shard and query. */
  readonly pageSize?: number;
  /** Markers sent per round (SendMessageBatch calls of ten run in parallel). */
  readonly roundSize?: number;
  /** Backfill-lane markers sent per run at most. @default the runner's maxConcurrency */
  readonly backfillPerRun?: number;
}

/**
 * The visible messages a runner's queue is kept under: one batch for each of its concurrent pollers, so that its
 * function never waits for work while a backlog waits as ready markers, and fresh work sent straight to the queue
 * (chaining) finds at most this much ahead of it.
 */
export const queueTarget = (runner: Pick<TransientTaskRunner, 'maxConcurrency' | 'batchSize'>): number => runner.maxConcurrency * runner.batchSize;

/**
 * How many messages a run may send: the queue's target less the messages it holds (SQS's ApproximateNumberOfMessages).
 * SQS updates that count lazily (it settles within about a minute of the last send), so a reading may be stale
 * either way: too low, and the queue holds at most two targets for a while; too high, and the run sends less and
 * the rest waits as ready markers for the next run (the schedule's period, 60 s, is about what SQS takes to
 * settle, so each run reads its predecessor's sends). An engine without queue depths, or whose reader does not
 * know the queue (tests), has no limit; a failed reading allows one target.
 */
export const roomInQueue = async (engine: Engine, runner: TransientTaskRunner): Promise<number> => {
  if (!engine.queueDepths) return Number.POSITIVE_INFINITY;
  const target = queueTarget(runner);
  try {
    const { queue } = await engine.queueDepths.of(runner.taskName);
    // A queue the reader does not know (an engine whose queues are stand-ins) sets no limit.
    return queue ? Math.max(0, target - queue.visible) : Number.POSITIVE_INFINITY;
  } catch (error) {
    engine.logger.warn('could not read the queue depth; sending one target at most', { task: runner.taskName, error });
    return target;
  }
};

export interface DispatchResult {
  readonly task: string;
  readonly dispatched: number;
  /** Of those, backfill-lane markers (aged ones included). */
  readonly backfill: number;
  /** Ready-index items read (read amplification = itemsRead / dispatched). */
  readonly itemsRead: number;
  /** The lock was held by an overlapping run, which does the work instead. */
  readonly skipped: boolean;
  /** Stopped at the deadline with markers left for the next run. */
  readonly truncated: boolean;
  /** Stopped because the queue reached its target (`queueTarget`); what is left waits for the next run. */
  readonly full: boolean;
}

interface ShardCursor {
  readonly shard: number;
  /** Each lane of a shard is read apart: the live lane as far as the room goes, the backfill lane's head for its share. */
  readonly lane: Lane;
  buffer: ReadyMarker[];
  next?: PageCursor | undefined;
  exhausted: boolean;
}

/**
 * The dispatch lock's lease, renewed each round: a dispatcher that dies (no `finally` runs) holds up its task for
 * at most this long, plus the clock skew tolerated between it and the next run.
 */
export const DISPATCH_LEASE_MS = 30_000;

/**
 * Sends markers as task messages and deletes the ones sent (exactly those: a marker written since for the same
 * task and transient is another item, and stays); returns how many went out.
 */
export const sendMarkers = async (engine: Engine, task: string, markers: readonly ReadyMarker[]): Promise<number> => {
  if (markers.length === 0) return 0;
  const failed = await engine.queues.send(
    task,
    markers.map((marker) => ({ transient: marker.name, task, readyAt: marker.readyAt, g: marker.generation })),
  );
  const unsent = new Set(failed.map((message) => message.transient));
  const sent = markers.filter((marker) => !unsent.has(marker.name));
  await engine.store.readiness.delete(sent);
  return sent.length;
};

export const dispatchReady = async (engine: Engine, task: string, options: DispatchOptions): Promise<DispatchResult> => {
  const runner = transientRunner(engine, task);
  if (!runner) throw new ConfigError(`the schedule names "${task}", which is not a registered transient runner`);
  if (!engine.queues.has(task)) throw new ConfigError(`no queue URL is configured for "${task}"`);
  const pageSize = options.pageSize ?? 100;
  const roundSize = options.roundSize ?? 100;
  let itemsRead = 0;

  // A one-item probe per shard keeps empty ticks from taking the lock at all.
  const probes = await Promise.all(
    Array.from({ length: runner.readyShards }, (_, shard) => engine.store.readiness.page(task, shard, 1)),
  );
  itemsRead += probes.reduce((sum, page) => sum + page.items.length, 0);
  if (probes.every((page) => page.items.length === 0)) {
    return { task, dispatched: 0, backfill: 0, itemsRead, skipped: false, truncated: false, full: false };
  }

  const lease = () => {
    const now = engine.clock();
    return { until: now + DISPATCH_LEASE_MS, expiredBefore: now - MAX_CLOCK_SKEW_MS };
  };
  let renewAt = engine.clock() + DISPATCH_LEASE_MS / 2;
  if (!(await engine.store.locks.acquire(task, options.owner, lease()))) {
    engine.logger.info('another dispatcher run holds the lock; leaving the work to it', { task });
    return { task, dispatched: 0, backfill: 0, itemsRead, skipped: true, truncated: false, full: false };
  }
  const cursors: ShardCursor[] = [Lane.Live, Lane.Backfill].flatMap((lane) =>
    Array.from({ length: runner.readyShards }, (_, shard): ShardCursor => ({ shard, lane, buffer: [], exhausted: false })),
  );
  let dispatched = 0;
  let backfill = 0;
  const backfillPerRun = options.backfillPerRun ?? runner.maxConcurrency;
  let truncated = false;
  let full = false;
  try {
    // Read under the lock, so that two overlapping runs do not both fill the same room.
    const room = await roomInQueue(engine, runner);
    for (;;) {
      const left = room - dispatched;
      if (left <= 0) {
        full = true;
        break;
      }
      if (engine.clock() >= options.deadline) {
        truncated = true;
        break;
      }
      if (engine.clock() >= renewAt) {
        // Renewed by its owner; lost only if this run stalled past its lease and another took over meanwhile.
        if (!(await engine.store.locks.acquire(task, options.owner, lease()))) {
          truncated = true;
          break;
        }
        renewAt = engine.clock() + DISPATCH_LEASE_MS / 2;
      }
      await Promise.all(
        cursors
          .filter((cursor) => cursor.buffer.length === 0 && !cursor.exhausted)
          .map(async (cursor) => {
            // Live: no more than the shard's share of the room left (more pages follow if one shard holds more of the
            // oldest). Backfill: its head, as much as the backfill may send in a run (aged markers are there: a
            // backfill writes its markers oldest first, so its first-written are at the head and age first).
            const share = cursor.lane === Lane.Live ? Math.ceil(left / runner.readyShards) : Math.min(left, backfillPerRun);
            const page = await engine.store.readiness.page(task, cursor.shard, Math.max(1, Math.min(pageSize, share)), cursor.next, cursor.lane);
            itemsRead += page.items.length;
            cursor.buffer = page.items;
            cursor.next = page.next;
            cursor.exhausted = page.next === undefined;
          }),
      );
      const now = engine.clock();
      const round = takeOldest(cursors, Math.min(roundSize, left), (marker) => laneRank(marker.lane, marker.readyAt, now), backfillPerRun - backfill);
      if (round.length === 0) break;
      dispatched += await sendMarkers(engine, task, round);
      backfill += round.filter((marker) => marker.lane === Lane.Backfill).length;
    }
  } finally {
    await engine.store.locks.release(task, options.owner);
  }
  engine.metrics.add(task, Metric.Dispatched, dispatched);
  engine.metrics.add(task, Metric.ReadyRead, itemsRead);
  return { task, dispatched, backfill, itemsRead, skipped: false, truncated, full };
};

/**
 * Takes up to `count` markers across the shards' buffers, by rank (live, or aged backfill, before backfill) and
 * then in priority order, and at most `backfillRoom` of rank 1. It stops when a buffer runs dry while its shard
 * has more pages, since the next page may hold markers that go before the other shards', and when the next
 * marker is backfill work with no room left (the rest waits for the next run).
 */
const takeOldest = (cursors: ShardCursor[], count: number, rank: (marker: ReadyMarker) => 0 | 1, backfillRoom: number): ReadyMarker[] => {
  const taken: ReadyMarker[] = [];
  let room = backfillRoom;
  while (taken.length < count) {
    let first: { cursor: ShardCursor; head: ReadyMarker; rank: 0 | 1 } | undefined;
    for (const cursor of cursors) {
      const head = cursor.buffer[0];
      if (!head) {
        if (!cursor.exhausted) return taken;
        continue;
      }
      const headRank = rank(head);
      if (!first || headRank < first.rank || (headRank === first.rank && head.priority < first.head.priority)) first = { cursor, head, rank: headRank };
    }
    if (!first || (first.rank === 1 && room <= 0)) break;
    if (first.rank === 1) room--;
    first.cursor.buffer.shift();
    taken.push(first.head);
  }
  return taken;
};
