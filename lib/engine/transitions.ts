/**
 * What follows a register write: the tasks it made ready go out at once (principle 6), and the transient's
 * bucket (its processing status and the counters' bucket) is recorded when it changed. Also the
 * compare-and-set loop for the rare writes that must see the whole transient (resets, dead letters,
 * revisions), which record what they make ready in the same transaction (principle 2).
 */
import { randomBytes } from 'node:crypto';
import { type CountBucket, type CountDelta, addMove, bucketOfRegisters, nonZero } from '../domain/counts';
import { coerceError } from '../domain/errors';
import { Lane } from '../domain/lanes';
import { type Registers, generationOf, laneOf, newlyReady } from '../domain/workflow';
import type { Transient } from '../runner';
import { priorityKey, shardOf } from '../domain/ordering';
import { COUNTER_SHARDS, type ReadyMarker, type TransientRecord } from './store';
import { Metric } from './telemetry';
import { type Engine, transientRunner } from './engine';
import { recordLostAttempts } from './attempts';

export const WORKFLOW_DIMENSION = 'workflow';

/** A random id of `bytes` bytes, URL-safe (claim tokens, marker ids, writer marks). */
export const randomId = (bytes: number): string => randomBytes(bytes).toString('base64url');

export const markerFor = (
  engine: Engine,
  transient: Pick<Transient, 'name' | 'publicTimestamp'>,
  task: string,
  readyAt: number,
  generation: number,
  lane: Lane = Lane.Live,
): ReadyMarker => ({
  task,
  shard: shardOf(transient.name, transientRunner(engine, task)?.readyShards ?? 1),
  priority: priorityKey(transient),
  name: transient.name,
  readyAt,
  generation,
  id: randomId(4),
  ...(lane === Lane.Backfill ? { lane } : {}),
});

/** The ready markers of `tasks` (those a transient runner works on), as the registers stand (their generation and lane). */
export const markersFor = (engine: Engine, record: Pick<TransientRecord, 'transient' | 'registers'>, tasks: readonly string[], readyAt: number): ReadyMarker[] =>
  tasks
    .filter((task) => transientRunner(engine, task))
    .map((task) => markerFor(engine, record.transient, task, readyAt, generationOf(record.registers, task), laneOf(record.registers, task)));

/** The tasks whose runner is enabled and whose queue this function may send to: the ones it can send at once. */
const sendable = (engine: Engine, task: string) => transientRunner(engine, task)?.initiallyEnabled === true && engine.queues.has(task);

/**
 * Sends each ready task to its runner's queue. Whatever cannot be sent now (a disabled runner, a queue this
 * function may not send to, a failed send) becomes a ready marker for the dispatcher instead, and so does
 * backfill work (a register a backfill reset): the dispatcher sends it after live work. A worker calls this
 * before its message is deleted, so a crash on the way leaves the message, whose redelivery sends again.
 */
export const announce = async (engine: Engine, record: Pick<TransientRecord, 'transient' | 'registers'>, tasks: readonly string[], readyAt: number): Promise<void> => {
  const unsent: string[] = [];
  await Promise.all(
    tasks.map(async (task) => {
      if (!transientRunner(engine, task)) return;
      if (!sendable(engine, task) || laneOf(record.registers, task) === Lane.Backfill) {
        unsent.push(task);
        return;
      }
      try {
        const failed = await engine.queues.send(task, [{ transient: record.transient.name, task, readyAt, g: generationOf(record.registers, task) }]);
        if (failed.length > 0) unsent.push(task);
        else engine.metrics.add(task, Metric.Chained);
      } catch (error) {
        engine.logger.warn('could not send a ready task; leaving it to the dispatcher', { transient: record.transient.name, task, error });
        unsent.push(task);
      }
    }),
  );
  if (unsent.length > 0) await engine.store.readiness.put(markersFor(engine, record, unsent, readyAt));
};

/** A ready task whose send was tried and failed: its ready marker stays for the dispatcher. */
export interface UnsentTask {
  readonly task: string;
  /** The send's error, or undefined when SQS refused the message after the adapter's retries. */
  readonly error?: Error;
}

export interface SendOutcome {
  /** The tasks sent (their markers deleted). */
  readonly sent: string[];
  /** The tasks whose send failed. Tasks not sent by design (a disabled runner, a queue not granted) are in neither. */
  readonly unsent: UnsentTask[];
}

/**
 * The fast path after a write that recorded its ready markers itself: sends what can be sent now and deletes
 * exactly those markers; the rest stay for the dispatcher (backfill-lane markers always do: the dispatcher
 * sends them after live work). Says which were sent and which sends failed.
 */
export const sendRecorded = async (engine: Engine, markers: readonly ReadyMarker[]): Promise<SendOutcome> => {
  const sent: ReadyMarker[] = [];
  const unsent: UnsentTask[] = [];
  await Promise.all(
    markers
      .filter((marker) => sendable(engine, marker.task) && marker.lane !== Lane.Backfill)
      .map(async (marker) => {
        try {
          const failed = await engine.queues.send(marker.task, [{ transient: marker.name, task: marker.task, readyAt: marker.readyAt, g: marker.generation }]);
          if (failed.length === 0) sent.push(marker);
          else unsent.push({ task: marker.task });
        } catch (error) {
          engine.logger.warn('could not send a ready task; its marker is left to the dispatcher', { transient: marker.name, task: marker.task, error });
          unsent.push({ task: marker.task, error: coerceError(error) });
        }
      }),
  );
  if (sent.length > 0) await engine.store.readiness.delete(sent);
  return { sent: sent.map((marker) => marker.task), unsent };
};

/**
 * After a settle: announces what `after` made ready, records a changed bucket (unless the settle wrote it),
 * and moves the transient between the counters' buckets when the settle or the bucket write moved it.
 * `moved` is the move the settle itself wrote, if it did.
 */
export const afterSettle = async (
  engine: Engine,
  before: Registers,
  after: TransientRecord,
  changed: readonly string[],
  moved?: { readonly from: CountBucket; readonly to: CountBucket },
): Promise<void> => {
  // The counter update first, right after the write that moved the bucket: the recount allows it a bounded delay.
  if (moved) await countMove(engine, after.transient.name, moved.from, moved.to);
  const ready = newlyReady(engine.workflow, before, after.registers, changed);
  if (ready.length > 0) await announce(engine, after, ready, engine.clock());
  await recordBucket(engine, after);
};

/**
 * Stores the bucket the registers give, if it differs from the stored one (a settle that could not write it, or a
 * redelivery whose worker died before doing so), and counts the move. Later images win; a write refused because
 * another moved the bucket meanwhile reads the transient again and goes on from what it finds, so that the
 * stored bucket always ends as the registers say.
 */
export const recordBucket = async (engine: Engine, given: TransientRecord): Promise<void> => {
  let record: TransientRecord | undefined = given;
  for (let attempt = 0; record && attempt < 10; attempt++) {
    const to = bucketOfRegisters(engine.workflow, record.registers);
    if (to === record.bucket) return;
    const move = { from: record.bucket, to, version: record.version };
    if (await engine.store.transients.setBucket(record.transient.name, move, randomId(3))) {
      await countMove(engine, record.transient.name, move.from, move.to);
      return;
    }
    record = await engine.store.transients.get(given.transient.name);
  }
};

/** Counts one transient's move from one bucket to another (and the workflow's completed and blocked metrics). */
export const countMove = async (engine: Engine, name: string, from: CountBucket | undefined, to: CountBucket | undefined): Promise<void> => {
  if (from === to) return;
  if (to === 'completed') engine.metrics.add(WORKFLOW_DIMENSION, Metric.TransientsCompleted);
  if (to === 'blocked') engine.metrics.add(WORKFLOW_DIMENSION, Metric.TransientsBlocked);
  await recordCounts(engine, name, addMove({}, from, to));
};

/**
 * Keeps the counters (principle: the count snapshot reads no transient). Written only when a transient
 * changes bucket — ingested, first task finished, completed, blocked, reset, deleted — never per task run,
 * always on the counter item of the transient's own shard.
 */
export const recordCounts = async (engine: Engine, name: string, delta: CountDelta): Promise<void> => {
  const moved = nonZero(delta);
  if (Object.keys(moved).length === 0) return;
  try {
    await engine.store.counters.add(shardOf(name, COUNTER_SHARDS), moved);
  } catch (error) {
    // The state write it follows has landed; failing the delivery would not bring the move back.
    engine.metrics.add(WORKFLOW_DIMENSION, Metric.CountMovesLost);
    engine.logger.warn('a counter move was not recorded; the next recount repairs it', { transient: name, moved, error });
  }
};

export interface Change {
  readonly before: TransientRecord;
  readonly after: TransientRecord;
  readonly changed: string[];
  /** Ready tasks recorded with the write (as markers in its transaction). */
  readonly ready: string[];
  /** Of those, the ones sent at once (their markers deleted); the others wait for the dispatcher. */
  readonly sent: string[];
  /** Of those, the ones whose send was tried and failed (they too wait for the dispatcher). */
  readonly unsent: UnsentTask[];
}

/** What one compare-and-set write changes: registers to replace and, optionally, the transient's data. */
export interface TransientRevision {
  readonly registers: Registers;
  readonly transient?: Transient;
}

export interface ReviseOptions {
  /** A record just read, to save the first read (if it is stale, the write is refused and the loop reads again). */
  readonly current?: TransientRecord;
  /**
   * The ready tasks to record with the write. Default: what it makes ready. Resets also record the tasks that
   * were ready already, whose message may have been lost.
   */
  readonly ready?: (before: TransientRecord, after: Registers, changed: readonly string[]) => string[];
  /** Who the write is, for the history record of a run whose claim it takes (lib/engine/attempts.ts). @default 'a reset' */
  readonly takenBy?: string;
}

/**
 * Read, change, write only if nobody wrote in between, retry on contention. `change` returns the
 * registers to replace (nothing to skip the write). Returns undefined for an unknown transient.
 */
export const updateTransient = (
  engine: Engine,
  name: string,
  change: (record: TransientRecord) => Registers | undefined,
  options: ReviseOptions = {},
): Promise<Change | undefined> =>
  reviseTransient(
    engine,
    name,
    (record) => {
      const registers = change(record);
      return registers && { registers };
    },
    options,
  );

/**
 * `updateTransient` that may also replace the transient's data in the same write. The tasks the write makes
 * ready are written as ready markers in the same transaction, so no crash after it loses them; then those that
 * can go out at once are sent and their markers deleted.
 */
export const reviseTransient = async (
  engine: Engine,
  name: string,
  change: (record: TransientRecord) => TransientRevision | undefined,
  options: ReviseOptions = {},
): Promise<Change | undefined> => {
  const { workflow } = engine;
  let record = options.current ?? (await engine.store.transients.get(name));
  for (let attempt = 0; attempt < 20; attempt++) {
    if (!record) return undefined;
    const revision = change(record);
    const changed = Object.keys(revision?.registers ?? {});
    if (!revision || (changed.length === 0 && !revision.transient)) return { before: record, after: record, changed: [], ready: [], sent: [], unsent: [] };
    const registers = { ...record.registers, ...revision.registers };
    const bucket = bucketOfRegisters(workflow, registers);
    const ready = (options.ready ?? ((before, after, tasks) => newlyReady(workflow, before.registers, after, tasks)))(record, registers, changed);
    const markers = markersFor(engine, { transient: revision.transient ?? record.transient, registers }, ready, engine.clock());
    const result = await engine.store.transients.replace(name, record, revision.registers, bucket, {
      ...(revision.transient ? { transient: revision.transient } : {}),
      markers,
      writer: randomId(3),
    });
    if (result.ok) {
      // A run whose claim the write took never settles: its attempt is recorded here.
      await recordLostAttempts(engine, record.transient, record.registers, registers, changed, options.takenBy ?? 'a reset');
      await countMove(engine, name, record.bucket, bucket);
      const { sent, unsent } = await sendRecorded(engine, markers);
      return { before: record, after: result.record, changed, ready: markers.map((marker) => marker.task), sent, unsent };
    }
    record = result.current;
  }
  throw new Error(`transient "${name}" kept changing under 20 attempts to update it`);
};
