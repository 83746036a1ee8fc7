/**
 * The dispatcher: reads one task's ready markers by lane (live before backfill, lib/domain/lanes.ts) and then in
 * Blast's priority order (oldest public timestamp first, merged across shards), sends them to the task's queue in
 * batches, and deletes what it sent. It sends every live marker, but no more backfill markers per run than the
 * runner's concurrency, so backfill work never fills the queue ahead of fresh work; a backfill marker that has
 * waited BACKFILL_AGING_MS counts as live. It reads only ready work (principle 2) and pages through, so memory
 * stays flat however long the backlog.
 */
import { ConfigError } from '../domain/errors';
import { Lane, laneRank } from '../domain/lanes';
import { MAX_CLOCK_SKEW_MS } from '../domain/time';
import type { PageCursor, ReadyMarker } from './store';
import { Metric } from './telemetry';
import { type Engine, transientRunner } from './engine';

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
}

interface ShardCursor {
  readonly shard: number;
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
    return { task, dispatched: 0, backfill: 0, itemsRead, skipped: false, truncated: false };
  }

  const lease = () => {
    const now = engine.clock();
    return { until: now + DISPATCH_LEASE_MS, expiredBefore: now - MAX_CLOCK_SKEW_MS };
  };
  let renewAt = engine.clock() + DISPATCH_LEASE_MS / 2;
  if (!(await engine.store.locks.acquire(task, options.owner, lease()))) {
    engine.logger.info('another dispatcher run holds the lock; leaving the work to it', { task });
    return { task, dispatched: 0, backfill: 0, itemsRead, skipped: true, truncated: false };
  }
  const cursors: ShardCursor[] = Array.from({ length: runner.readyShards }, (_, shard) => ({ shard, buffer: [], exhausted: false }));
  let dispatched = 0;
  let backfill = 0;
  const backfillPerRun = options.backfillPerRun ?? runner.maxConcurrency;
  let truncated = false;
  try {
    for (;;) {
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
            const page = await engine.store.readiness.page(task, cursor.shard, pageSize, cursor.next);
            itemsRead += page.items.length;
            cursor.buffer = page.items;
            cursor.next = page.next;
            cursor.exhausted = page.next === undefined;
          }),
      );
      const now = engine.clock();
      const round = takeOldest(cursors, roundSize, (marker) => laneRank(marker.lane, marker.readyAt, now), backfillPerRun - backfill);
      if (round.length === 0) break;
      dispatched += await sendMarkers(engine, task, round);
      backfill += round.filter((marker) => marker.lane === Lane.Backfill).length;
    }
  } finally {
    await engine.store.locks.release(task, options.owner);
  }
  engine.metrics.add(task, Metric.Dispatched, dispatched);
  engine.metrics.add(task, Metric.ReadyRead, itemsRead);
  return { task, dispatched, backfill, itemsRead, skipped: false, truncated };
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
