/**
 * Keeping the counters true. Every write that moves a transient between buckets counts the move once (the
 * write is conditioned on the bucket it moves from, and the ADD is never sent twice). A move can still be
 * lost — the process dies between the write and its ADD, or the ADD times out — so the recount repairs the
 * counters from the processing-status index, which holds every transient's bucket: no base-table read.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type CountBucket, countBuckets, toCounts } from '../domain/counts';
import { COUNTER_UPDATE_MAX_DELAY_MS } from '../domain/time';
import type { TransientCounts } from '../runner';
import { COUNTER_SHARDS } from './store';
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
  /**
   * How long a difference between a shard's counters and the index must stay, with no counter update landing,
   * before it is repaired: longer than a counter update can take to land. @default COUNTER_UPDATE_MAX_DELAY_MS
   */
  readonly settleMs?: number;
  /** Tries per shard while moves keep landing. @default 2 */
  readonly attempts?: number;
  /** Aborted, a shard still settling is left for the next recount (reported busy). */
  readonly signal?: AbortSignal;
}

const same = (a: Record<CountBucket, number>, b: Record<CountBucket, number>) => countBuckets.every((bucket) => a[bucket] === b[bucket]);
const sum = (parts: readonly Record<CountBucket, number>[]) =>
  toCounts(Object.fromEntries(countBuckets.map((bucket) => [bucket, parts.reduce((total, part) => total + part[bucket], 0)])));
const none = (): Record<CountBucket, number> => ({ waiting: 0, processing: 0, blocked: 0, completed: 0 });

/**
 * Recounts one shard: its counter item is set to what the status index holds, only if the difference stays for
 * `settleMs` with no counter update landing on the shard meanwhile (its version unchanged) and the index
 * unchanged. A move whose update is still on its way lands within that time and changes the version, so the
 * shard is left for the next recount rather than counted twice.
 */
const recountShard = async (engine: Engine, shard: number, settleMs: number, attempts: number, signal?: AbortSignal): Promise<ShardRecount> => {
  const { counters, transients } = engine.store;
  let last: ShardRecount = { shard, before: none(), counted: none(), repaired: false, busy: true };
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await sleep(1_000);
    const before = await counters.readShard(shard);
    const counted = await transients.countShard(shard);
    last = { shard, before: before.counts, counted, repaired: false, busy: true };
    if (same(counted, before.counts) && (await counters.readShard(shard)).version === before.version) return { ...last, busy: false };
    if (!(await sleep(settleMs, true, { signal }).catch(() => false))) return last;
    const again = await transients.countShard(shard);
    const after = await counters.readShard(shard);
    if (after.version !== before.version || !same(again, counted)) continue;
    if (await counters.repairShard(shard, before.version, counted)) {
      engine.logger.warn('counters repaired by the recount', { shard, before: before.counts, counted });
      return { ...last, repaired: true, busy: false };
    }
  }
  return last;
};

/** Recounts every shard of the counters from the status index, repairing those that drifted. */
export const recountTransients = async (engine: Engine, options: RecountOptions = {}): Promise<RecountResult> => {
  const settleMs = options.settleMs ?? COUNTER_UPDATE_MAX_DELAY_MS;
  const attempts = options.attempts ?? 2;
  const shards = await Promise.all(Array.from({ length: COUNTER_SHARDS }, (_, shard) => recountShard(engine, shard, settleMs, attempts, options.signal)));
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
  const old = await engine.store.transients.delete(name);
  if (old) await recordCounts(engine, name, { [old.bucket]: -1 });
  return old !== undefined;
};
