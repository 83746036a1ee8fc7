/**
 * Keeping the counters true. Every write that moves a transient between buckets counts the move once (the
 * write is conditioned on the bucket it moves from, and the ADD is never sent twice). A move can still be
 * lost — the process dies between the write and its ADD, or the ADD times out — so the recount repairs the
 * counters from the processing-status index, which holds every transient's bucket: no base-table read.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type CountBucket, countBuckets, toCounts } from '../domain/counts';
import type { TransientCounts } from '../runner';
import { COUNTER_SHARDS } from '../store/task-store';
import type { Engine } from './engine';
import { recordCounts } from './transitions';

export interface ShardRecount {
  readonly shard: number;
  /** The counters before the recount. */
  readonly before: Record<CountBucket, number>;
  /** The transients counted in the status index. */
  readonly counted: Record<CountBucket, number>;
  /** The counters were set to what was counted. */
  readonly repaired: boolean;
  /** Moves kept landing during every attempt, so the shard was left for the next recount. */
  readonly busy: boolean;
}

export interface RecountResult {
  readonly shards: readonly ShardRecount[];
  /** What the counters said before, summed over the shards. */
  readonly before: TransientCounts;
  /** What the status index holds, summed over the shards. */
  readonly counted: TransientCounts;
  /** Shards whose counters were repaired. */
  readonly repaired: number;
  /** Shards left busy. */
  readonly busy: number;
}

export interface RecountOptions {
  /** Wait before confirming a difference, for the index to catch up with writes that just landed. @default 1000 */
  readonly settleMs?: number;
  /** Attempts per shard while moves keep landing. @default 3 */
  readonly attempts?: number;
}

const same = (a: Record<CountBucket, number>, b: Record<CountBucket, number>) => countBuckets.every((bucket) => a[bucket] === b[bucket]);
const sum = (parts: readonly Record<CountBucket, number>[]) =>
  toCounts(Object.fromEntries(countBuckets.map((bucket) => [bucket, parts.reduce((total, part) => total + part[bucket], 0)])));

/**
 * Recounts one shard: its counter item is set to what the status index holds, only if no move landed on it
 * while the index was counted (its version is unchanged) and a second count, after `settleMs`, agrees.
 */
const recountShard = async (engine: Engine, shard: number, settleMs: number, attempts: number): Promise<ShardRecount> => {
  let last: ShardRecount | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await sleep(settleMs);
    const before = await engine.store.readCounterShard(shard);
    const counted = await engine.store.countIndexShard(shard);
    const unchanged = async () => (await engine.store.readCounterShard(shard)).version === before.version;
    last = { shard, before: before.counts, counted, repaired: false, busy: true };
    if (!(await unchanged())) continue;
    if (same(counted, before.counts)) return { ...last, busy: false };
    // The index may lag a write that just landed (and whose move is already counted): count again after a pause.
    await sleep(settleMs);
    const again = await engine.store.countIndexShard(shard);
    if (!same(again, counted) || !(await unchanged())) continue;
    if (await engine.store.repairCounterShard(shard, before.version, counted)) {
      engine.logger.warn('counters repaired by the recount', { shard, before: before.counts, counted });
      return { ...last, repaired: true, busy: false };
    }
  }
  return last ?? { shard, before: { waiting: 0, processing: 0, blocked: 0, completed: 0 }, counted: { waiting: 0, processing: 0, blocked: 0, completed: 0 }, repaired: false, busy: true };
};

/** Recounts every shard of the counters from the status index, repairing those that drifted. */
export const recountTransients = async (engine: Engine, options: RecountOptions = {}): Promise<RecountResult> => {
  const settleMs = options.settleMs ?? 1_000;
  const attempts = options.attempts ?? 3;
  const shards = await Promise.all(Array.from({ length: COUNTER_SHARDS }, (_, shard) => recountShard(engine, shard, settleMs, attempts)));
  return {
    shards,
    before: sum(shards.map((shard) => shard.before)),
    counted: sum(shards.map((shard) => shard.counted)),
    repaired: shards.filter((shard) => shard.repaired).length,
    busy: shards.filter((shard) => shard.busy).length,
  };
};

/** Deletes a transient and takes it out of the counters. Returns whether it existed. */
export const deleteTransient = async (engine: Engine, name: string): Promise<boolean> => {
  const old = await engine.store.deleteTransient(name);
  if (old) await recordCounts(engine, name, { [old.bucket]: -1 });
  return old !== undefined;
};
