/**
 * What follows a register write: the tasks it made ready go out at once (principle 6), and the
 * transient's processing status is recorded when it changed. Also the compare-and-set loop for the rare
 * writes that must see the whole transient (resets, dead letters).
 */
import { Status } from '../domain/catalog';
import { type CountDelta, addMove, bucketOf, nonZero } from '../domain/counts';
import { ProcessingStatus, type Registers, newlyReady, processingStatus } from '../domain/workflow';
import type { Transient } from '../runner';
import { COUNTER_SHARDS, type ReadyMarker, type TransientRecord, priorityKey, shardOf } from '../store/task-store';
import { Metric } from '../telemetry';
import { type Engine, transientRunner } from './engine';

export const WORKFLOW_DIMENSION = 'workflow';

export const markerFor = (engine: Engine, transient: Pick<Transient, 'name' | 'publicTimestamp'>, task: string, readyAt: number): ReadyMarker => ({
  task,
  shard: shardOf(transient.name, transientRunner(engine, task)?.readyShards ?? 1),
  priority: priorityKey(transient),
  name: transient.name,
  readyAt,
});

/**
 * Sends each ready task to its runner's queue. Whatever cannot be sent now (a disabled runner, a queue
 * this function may not send to, a failed send) becomes a ready marker for the dispatcher instead.
 */
export const announce = async (engine: Engine, transient: Transient, tasks: readonly string[], readyAt: number): Promise<void> => {
  const unsent: string[] = [];
  await Promise.all(
    tasks.map(async (task) => {
      const runner = transientRunner(engine, task);
      if (!runner) return;
      if (!runner.initiallyEnabled || !engine.queues.has(task)) {
        unsent.push(task);
        return;
      }
      try {
        const failed = await engine.queues.send(task, [{ transient: transient.name, task, readyAt }]);
        if (failed.length > 0) unsent.push(task);
        else engine.metrics.add(task, Metric.Chained);
      } catch (error) {
        engine.logger.warn('could not send a ready task; leaving it to the dispatcher', { transient: transient.name, task, error });
        unsent.push(task);
      }
    }),
  );
  if (unsent.length > 0) await engine.store.putMarkers(unsent.map((task) => markerFor(engine, transient, task, readyAt)));
};

/**
 * After a settle: announces what `after` made ready, records a changed processing status (unless the
 * settle wrote it), and moves the transient between the counters' buckets when the settle or the status
 * write moved it. `before` is the transient as the settle found it.
 */
export const afterChange = async (
  engine: Engine,
  before: Pick<TransientRecord, 'registers' | 'processingStatus'>,
  after: TransientRecord,
  changed: readonly string[],
): Promise<void> => {
  const { workflow } = engine;
  if (after.processingStatus !== before.processingStatus) countFinished(engine, after.processingStatus);
  const settled = addMove({}, bucketOf(workflow, before.processingStatus, before.registers), bucketOf(workflow, after.processingStatus, after.registers));
  await followChange(engine, before.registers, after, changed, settled);
};

const followChange = async (engine: Engine, before: Registers, after: TransientRecord, changed: readonly string[], delta: CountDelta) => {
  const { workflow } = engine;
  const ready = newlyReady(workflow, before, after.registers, changed);
  if (ready.length > 0) await announce(engine, after.transient, ready, engine.clock());
  const status = processingStatus(workflow, after.registers);
  let moved = delta;
  if (status !== after.processingStatus) {
    const previous = await engine.store.setProcessingStatus(after.transient.name, after.version, status);
    if (previous) {
      countFinished(engine, status);
      moved = addMove(moved, bucketOf(workflow, previous.processingStatus, previous.registers), bucketOf(workflow, status, previous.registers));
    }
  }
  await recordCounts(engine, after.transient.name, moved);
};

/**
 * Stores the processing status the registers of `record` give, if it differs from the stored one (for a
 * redelivery whose worker died before doing so); nothing is announced.
 */
export const recordProcessingStatus = (engine: Engine, record: TransientRecord): Promise<void> => followChange(engine, record.registers, record, [], {});

/**
 * Keeps the counters (principle: the count snapshot reads no transient). Written only when a transient
 * changes bucket — ingested, first task finished, completed, blocked, reset — never per task run.
 */
export const recordCounts = async (engine: Engine, name: string, delta: CountDelta): Promise<void> => {
  const moved = nonZero(delta);
  if (Object.keys(moved).length > 0) await engine.store.addCounts(shardOf(name, COUNTER_SHARDS), moved);
};

const countFinished = (engine: Engine, status: ProcessingStatus) => {
  if (status === ProcessingStatus.Completed) engine.metrics.add(WORKFLOW_DIMENSION, Metric.TransientsCompleted);
  if (status === ProcessingStatus.Blocked) engine.metrics.add(WORKFLOW_DIMENSION, Metric.TransientsBlocked);
};

export interface Change {
  readonly before: TransientRecord;
  readonly after: TransientRecord;
  readonly changed: string[];
}

/** What one compare-and-set write changes: registers to replace and, optionally, the transient's data. */
export interface TransientRevision {
  readonly registers: Registers;
  readonly transient?: Transient;
}

/**
 * Read, change, write only if nobody wrote in between, retry on contention. `change` returns the
 * registers to replace (nothing to skip the write). Returns undefined for an unknown transient.
 */
export const updateTransient = (
  engine: Engine,
  name: string,
  change: (record: TransientRecord) => Registers | undefined,
): Promise<Change | undefined> =>
  reviseTransient(engine, name, (record) => {
    const registers = change(record);
    return registers && { registers };
  });

/**
 * `updateTransient` that may also replace the transient's data in the same write. `current`, a record just
 * read, saves the first read (if it is stale, the write is refused and the loop reads again).
 */
export const reviseTransient = async (
  engine: Engine,
  name: string,
  change: (record: TransientRecord) => TransientRevision | undefined,
  current?: TransientRecord,
): Promise<Change | undefined> => {
  const { workflow } = engine;
  let record = current ?? (await engine.store.get(name));
  for (let attempt = 0; attempt < 20; attempt++) {
    if (!record) return undefined;
    const revision = change(record);
    const changed = Object.keys(revision?.registers ?? {});
    if (!revision || (changed.length === 0 && !revision.transient)) return { before: record, after: record, changed: [] };
    const registers = { ...record.registers, ...revision.registers };
    const status = processingStatus(workflow, registers);
    const result = await engine.store.replace(name, record, revision.registers, status, revision.transient);
    if (result.ok) {
      if (status !== record.processingStatus) countFinished(engine, status);
      const moved = addMove({}, bucketOf(workflow, record.processingStatus, record.registers), bucketOf(workflow, status, registers));
      await followChange(engine, record.registers, result.record, changed, moved);
      return { before: record, after: result.record, changed };
    }
    record = result.current;
  }
  throw new Error(`transient "${name}" kept changing under 20 attempts to update it`);
};

/** A register reset to "not processed" at `now`, dropping any claim. */
export const resetRegister = (now: number) => ({ status: Status.NotProcessed, lastModified: now });
