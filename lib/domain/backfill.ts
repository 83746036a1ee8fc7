/**
 * A backfill: one task and everything after it, reset over a selection of transients and run again in the
 * backfill lane (lib/domain/lanes.ts). Its state is data, validated when read back, so that a process killed at
 * any point leaves a record another one can continue from (lib/engine/backfill.ts drives it).
 */
import { z } from 'zod';
import { StatusType, isFinalType, statusTypeOf } from './catalog';
import { TaskRunnerError } from './errors';
import { transientNameSchema } from './transient';
import { ProcessingStatus, type Registers, type Workflow, blockedTasks, processingStatus, processingStatuses, statusOf } from './workflow';

/** Which transients a backfill goes over. */
export const selectionSchema = z.discriminatedUnion('kind', [
  /** Every transient. */
  z.strictObject({ kind: z.literal('all') }),
  /** These transients, in this order. */
  z.strictObject({ kind: z.literal('names'), names: z.array(transientNameSchema).min(1) }),
  /** Transients whose public timestamp (or creation here) falls in [from, to). */
  z.strictObject({ kind: z.literal('time'), field: z.enum(['public', 'created']), from: z.iso.datetime().optional(), to: z.iso.datetime().optional() }),
  /** Transients with this processing status (Blast's processing / blocked / completed) when the backfill reaches them. */
  z.strictObject({ kind: z.literal('processing-status'), status: z.enum(processingStatuses) }),
  /** Transients whose register of `task` has this status when the backfill reaches them. */
  z.strictObject({ kind: z.literal('task-status'), task: z.string().min(1), status: z.string().min(1) }),
  /** Transients whose result of the backfill's task is stale (lib/domain/staleness.ts). */
  z.strictObject({ kind: z.literal('stale') }),
]);
export type Selection = z.infer<typeof selectionSchema>;

export const BackfillStatus = {
  Running: 'running',
  Cancelled: 'cancelled',
  Finished: 'finished',
} as const;
export type BackfillStatus = (typeof BackfillStatus)[keyof typeof BackfillStatus];

/** A transient the backfill is about to reset, with its task's generation before the reset (write-ahead). */
const pendingSchema = z.strictObject({ name: z.string(), g: z.number().int().nonnegative() });

const countsSchema = z.strictObject({
  /** Transients taken from the selection so far. */
  selected: z.number().int().nonnegative(),
  /** Of those, reset by this backfill. */
  reset: z.number().int().nonnegative(),
  /** Reset and finished with every task successful. */
  done: z.number().int().nonnegative(),
  /** Reset and finished with a task failed or blocked. */
  failed: z.number().int().nonnegative(),
  /** Gone (deleted) before their reset. */
  missing: z.number().int().nonnegative(),
});
export type BackfillCounts = z.infer<typeof countsSchema>;

export const backfillStateSchema = z.strictObject({
  /** The task chosen; `tasks` are it and every task after it that a runner works on: what is reset. */
  task: z.string().min(1),
  tasks: z.array(z.string().min(1)).min(1),
  selection: selectionSchema,
  /** The share of each affected runner's concurrency the backfill may take. */
  share: z.number().positive().max(1),
  /** How many transients may be between their reset and their end at once (from `share`). */
  window: z.number().int().positive(),
  status: z.enum([BackfillStatus.Running, BackfillStatus.Cancelled, BackfillStatus.Finished]),
  /** Transients the selection holds, counted when the backfill was created (the selection may change since). */
  total: z.number().int().nonnegative(),
  /** Where the walk of the selection stopped (a priority key, or an index into `names`); absent at the start. */
  cursor: z.string().optional(),
  /** The walk reached the selection's end. */
  exhausted: z.boolean(),
  /** Written before their reset, cleared after it: a process killed in between resets only those not reset yet. */
  pending: z.array(pendingSchema),
  /** Reset and not finished yet. */
  active: z.array(z.string()),
  counts: countsSchema,
  createdAt: z.number(),
  updatedAt: z.number(),
  finishedAt: z.number().optional(),
});
export type BackfillState = z.infer<typeof backfillStateSchema>;

export class BackfillError extends TaskRunnerError {}

/** Parses a stored backfill; anything else is a record this code cannot continue. */
export const parseBackfillState = (id: string, state: unknown): BackfillState => {
  const parsed = backfillStateSchema.safeParse(state);
  if (!parsed.success) throw new BackfillError(`backfill ${id} is not a backfill this version can read: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return parsed.data;
};

/**
 * How many transients may be in flight at once so that no affected runner gets more than `share` of its
 * concurrency from the backfill: each transient runs at most one task of each runner at a time.
 */
export const backfillWindow = (share: number, concurrencies: readonly number[]): number =>
  Math.max(1, Math.floor(share * Math.min(...concurrencies)));

export const BackfillOutcome = { Waiting: 'waiting', Done: 'done', Failed: 'failed' } as const;
export type BackfillOutcome = (typeof BackfillOutcome)[keyof typeof BackfillOutcome];

/**
 * Where a reset transient stands for the backfill: waiting while one of `tasks` is still to run (or running);
 * otherwise failed if one of them ended on an error status or is blocked, done if all succeeded. A transient
 * with nothing left that can run (completed or blocked) has finished whatever its registers say.
 */
export const backfillOutcome = (workflow: Workflow, tasks: readonly string[], registers: Registers): BackfillOutcome => {
  const blocked = blockedTasks(workflow, registers);
  const types = tasks.map((task) => statusTypeOf(workflow.catalog, statusOf(registers, task)));
  const open = tasks.some((task, index) => !blocked.has(task) && !isFinalType(types[index] ?? StatusType.Blank));
  if (open && processingStatus(workflow, registers) === ProcessingStatus.Processing) return BackfillOutcome.Waiting;
  return tasks.some((task, index) => blocked.has(task) || types[index] === StatusType.Error) ? BackfillOutcome.Failed : BackfillOutcome.Done;
};

/** Seconds left at the rate so far, or undefined before anything finished. */
export const etaSeconds = (state: BackfillState, now: number): number | undefined => {
  const finished = state.counts.done + state.counts.failed;
  const remaining = Math.max(0, state.total - finished - state.counts.missing);
  if (finished === 0) return remaining === 0 ? 0 : undefined;
  return Math.round(((now - state.createdAt) / finished) * remaining / 1000);
};
