/**
 * Counting transients by state without reading them: every transient is in exactly one bucket, derived from
 * its stored processing status and registers, and every write that moves it to another bucket moves one
 * unit between two counters. The count snapshot then reads the counters, not the table.
 */
import { isFinalType, statusTypeOf } from './catalog';
import { ProcessingStatus, type Registers, type Workflow, processingStatus } from './workflow';

/** How many transients are in each state, kept as processing statuses change (no table scan). */
export interface TransientCounts {
  /** Ingested (or reset to the start) and no task has finished yet. */
  readonly waiting: number;
  /** Some task has finished and work is still running or possible. */
  readonly processing: number;
  readonly blocked: number;
  readonly completed: number;
  readonly total: number;
}

export const CountBucket = {
  Waiting: 'waiting',
  Processing: 'processing',
  Blocked: 'blocked',
  Completed: 'completed',
} as const;
export type CountBucket = (typeof CountBucket)[keyof typeof CountBucket];
export const countBuckets = Object.values(CountBucket);

/**
 * Some task has finished (a success or an error status). Only settles and compare-and-set writes (resets,
 * dead letters, revisions) change this, and both count; a claim never moves a register off a final status.
 */
export const anyTaskFinished = (workflow: Workflow, registers: Registers): boolean =>
  workflow.order.some((task) => isFinalType(statusTypeOf(workflow.catalog, registers[task]?.status ?? '')));

export const bucketOf = (workflow: Workflow, status: ProcessingStatus, registers: Registers): CountBucket => {
  if (status === ProcessingStatus.Completed) return CountBucket.Completed;
  if (status === ProcessingStatus.Blocked) return CountBucket.Blocked;
  return anyTaskFinished(workflow, registers) ? CountBucket.Processing : CountBucket.Waiting;
};

/** The bucket the registers put a transient in: what its stored bucket must say once every write has landed. */
export const bucketOfRegisters = (workflow: Workflow, registers: Registers): CountBucket =>
  bucketOf(workflow, processingStatus(workflow, registers), registers);

/** Blast's processing status of a transient in `bucket` (waiting and processing are both "processing"). */
export const statusOfBucket = (bucket: CountBucket): ProcessingStatus =>
  bucket === CountBucket.Completed ? ProcessingStatus.Completed : bucket === CountBucket.Blocked ? ProcessingStatus.Blocked : ProcessingStatus.Processing;

export type CountDelta = Partial<Record<CountBucket, number>>;

/** Adds the move from one bucket to another to `delta` (nothing when they are the same). */
export const addMove = (delta: CountDelta, from: CountBucket | undefined, to: CountBucket | undefined): CountDelta => {
  if (from === to) return delta;
  const next = { ...delta };
  if (from) next[from] = (next[from] ?? 0) - 1;
  if (to) next[to] = (next[to] ?? 0) + 1;
  return next;
};

/** The delta without its zero entries; empty when nothing moved. */
export const nonZero = (delta: CountDelta): CountDelta =>
  Object.fromEntries(Object.entries(delta).filter(([, value]) => value !== 0));

export const toCounts = (totals: Partial<Record<CountBucket, number>>): TransientCounts => {
  const waiting = totals.waiting ?? 0;
  const processing = totals.processing ?? 0;
  const blocked = totals.blocked ?? 0;
  const completed = totals.completed ?? 0;
  return { waiting, processing, blocked, completed, total: waiting + processing + blocked + completed };
};
