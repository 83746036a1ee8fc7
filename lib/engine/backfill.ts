/**
 * Backfills: reset one task and everything after it over a selection of transients, and let the normal chaining
 * run them again in the backfill lane (behind live work, lib/engine/dispatch.ts).
 *
 * Paced: at most `window` transients are between their reset and their end at once, so no affected runner gets
 * more than `share` of its concurrency from the backfill. Resumable: the backfill's record (selection, cursor,
 * counts) is an item of the table; each batch is written there *before* it is reset, with each task register's
 * generation, and a process that continues it resets only those whose generation has not moved (a reset moves it),
 * so a kill at any point loses nothing and resets nothing twice. Cancellable: `cancelBackfill` marks the record, and
 * the driving process stops at its next step (transients already reset finish their runs).
 */
import {
  type BackfillCounts,
  BackfillError,
  BackfillOutcome,
  type BackfillState,
  BackfillStatus,
  type Selection,
  backfillOutcome,
  backfillWindow,
  parseBackfillState,
} from '../domain/backfill';
import { priorityKey } from '../domain/ordering';
import { MAX_CLOCK_SKEW_MS } from '../domain/time';
import { ProcessingStatus, downstreamTasks, generationOf, statusOf } from '../domain/workflow';
import type { Engine } from './engine';
import { transientRunner } from './engine';
import { staleOf } from './history';
import { listTransients, resetForBackfill } from './operations';
import type { TransientRecord } from './store';
import { randomId } from './transitions';

export interface Backfill {
  readonly id: string;
  /** The record's revision (every write increments it). */
  readonly revision: number;
  readonly state: BackfillState;
}

export interface BackfillOptions {
  readonly task: string;
  readonly selection: Selection;
  /** The share of each affected runner's concurrency the backfill may take. @default 0.5 */
  readonly share?: number;
}

export const DEFAULT_BACKFILL_SHARE = 0.5;
/** Transients read per page while walking a selection. */
const WALK_PAGE = 100;


const lockOf = (id: string) => `backfill#${id}`;

export const readBackfill = async (engine: Engine, id: string): Promise<Backfill | undefined> => {
  const record = await engine.store.backfills.get(id);
  return record && { id, revision: record.revision, state: parseBackfillState(id, record.state) };
};

export const listBackfills = async (engine: Engine): Promise<Backfill[]> =>
  (await engine.store.backfills.list()).map((record) => ({ id: record.id, revision: record.revision, state: parseBackfillState(record.id, record.state) }));

/**
 * Applies `change` to the stored backfill until its write lands (another writer — a cancel — may get there
 * first: the change is applied again to what it wrote). `change` returns undefined to write nothing.
 */
const updateBackfill = async (engine: Engine, id: string, change: (state: BackfillState) => BackfillState | undefined): Promise<Backfill> => {
  for (let attempt = 0; attempt < 20; attempt++) {
    const current = await readBackfill(engine, id);
    if (!current) throw new BackfillError(`no backfill "${id}"`);
    const next = change(current.state);
    if (!next) return current;
    const saved = await engine.store.backfills.save(id, { ...next, updatedAt: engine.clock() }, current.revision);
    if (saved) return { id, revision: saved.revision, state: parseBackfillState(id, saved.state) };
  }
  throw new BackfillError(`backfill "${id}" kept changing under 20 attempts to update it`);
};

/** Whether a transient read while walking is one the selection holds. */
/** Whether `record` is in the selection of a backfill of `task`. */
const selects = (engine: Engine, task: string, selection: Selection, record: TransientRecord): boolean => {
  switch (selection.kind) {
    case 'all':
    case 'names':
      return true;
    case 'time': {
      const at = selection.field === 'public' ? Date.parse(record.transient.publicTimestamp) : record.createdAt;
      return (selection.from === undefined || at >= Date.parse(selection.from)) && (selection.to === undefined || at < Date.parse(selection.to));
    }
    case 'processing-status':
      return record.processingStatus === selection.status;
    case 'task-status':
      return statusOf(record.registers, selection.task) === selection.status;
    case 'stale':
      // Its result of the backfill's task is stale (a version changed, or an upstream result it used is stale),
      // judged from its registers: no read beyond the walk's own.
      return staleOf(engine, record).has(task);
  }
};

interface Step {
  readonly records: TransientRecord[];
  readonly cursor?: string;
  readonly exhausted: boolean;
  /** Names the selection lists that are not stored (a `names` selection). */
  readonly missing: number;
}

/**
 * The next `room` transients of the selection after `cursor`, as stored now. A list is walked by index; anything
 * else by priority (oldest public timestamp first) through the processing-status index, a page at a time, so
 * nothing scans the table; a public-timestamp range starts and stops at its bounds.
 */
const walk = async (engine: Engine, task: string, selection: Selection, cursor: string | undefined, room: number): Promise<Step> => {
  if (selection.kind === 'names') {
    const start = Number(cursor ?? 0);
    const names = selection.names.slice(start, start + room);
    const found = await engine.store.transients.getMany(names);
    const byName = new Map(found.map((record) => [record.transient.name, record]));
    const end = start + names.length;
    return { records: names.flatMap((name) => byName.get(name) ?? []), cursor: String(end), exhausted: end >= selection.names.length, missing: names.length - found.length };
  }
  const publicRange = selection.kind === 'time' && selection.field === 'public';
  const after = cursor ?? (publicRange && selection.from ? new Date(Date.parse(selection.from) - 1).toISOString() : undefined);
  const statuses = selection.kind === 'processing-status' ? [selection.status] : Object.values(ProcessingStatus);
  const page = await listTransients(engine, { statuses, limit: Math.max(room, WALK_PAGE), ...(after === undefined ? {} : { after }) });
  const taken: TransientRecord[] = [];
  let last: string | undefined = after;
  let stopped = false;
  for (const record of page.records) {
    if (taken.length >= room) {
      stopped = true;
      break;
    }
    if (publicRange && selection.to !== undefined && Date.parse(record.transient.publicTimestamp) >= Date.parse(selection.to)) {
      return { records: taken, ...(last === undefined ? {} : { cursor: last }), exhausted: true, missing: 0 };
    }
    last = priorityKey(record.transient);
    if (selects(engine, task, selection, record)) taken.push(record);
  }
  return { records: taken, ...(last === undefined ? {} : { cursor: last }), exhausted: !stopped && page.next === undefined, missing: 0 };
};

/** The tasks a backfill of `task` resets: it and every task after it that a registered runner works on. */
export const backfillTasks = (engine: Engine, task: string): string[] => {
  if (!engine.workflow.specs.has(task)) throw new BackfillError(`unknown task "${task}": not in the workflow's fixtures`);
  const tasks = downstreamTasks(engine.workflow, task).filter((each) => transientRunner(engine, each));
  if (tasks.length === 0) throw new BackfillError(`no transient runner is registered for "${task}" or any task after it: nothing would run`);
  return tasks;
};

/** Counts what the selection holds now (for progress and the ETA), walking it as the backfill will. */
const countSelection = async (engine: Engine, task: string, selection: Selection): Promise<number> => {
  if (selection.kind === 'names') return selection.names.length;
  let total = 0;
  let cursor: string | undefined;
  for (;;) {
    const step = await walk(engine, task, selection, cursor, WALK_PAGE);
    total += step.records.length;
    if (step.exhausted || step.cursor === cursor) return total;
    cursor = step.cursor;
  }
};

/** Records a new backfill (nothing is reset until it is run). */
export const createBackfill = async (engine: Engine, options: BackfillOptions): Promise<Backfill> => {
  const tasks = backfillTasks(engine, options.task);
  const share = options.share ?? DEFAULT_BACKFILL_SHARE;
  if (!(share > 0 && share <= 1)) throw new BackfillError(`--share must be above 0 and at most 1, not ${share}`);
  const concurrencies = tasks.flatMap((task) => transientRunner(engine, task)?.maxConcurrency ?? []);
  const now = engine.clock();
  const state: BackfillState = {
    task: options.task,
    tasks,
    selection: options.selection,
    share,
    window: backfillWindow(share, concurrencies),
    status: BackfillStatus.Running,
    total: await countSelection(engine, options.task, options.selection),
    exhausted: false,
    pending: [],
    active: [],
    counts: { selected: 0, reset: 0, done: 0, failed: 0, missing: 0 },
    createdAt: now,
    updatedAt: now,
  };
  const id = `bf-${new Date(now).toISOString().slice(0, 10).replaceAll('-', '')}-${randomId(4).toLowerCase().replaceAll(/[^a-z0-9]/g, 'x')}`;
  const saved = await engine.store.backfills.save(id, state, undefined);
  if (!saved) throw new BackfillError(`backfill id "${id}" is taken; try again`);
  return { id, revision: saved.revision, state };
};

/** Marks a backfill cancelled: its driving process stops at its next step; nothing more is reset. */
export const cancelBackfill = (engine: Engine, id: string): Promise<Backfill> =>
  updateBackfill(engine, id, (state) =>
    state.status === BackfillStatus.Running ? { ...state, status: BackfillStatus.Cancelled, finishedAt: engine.clock() } : undefined,
  );

export interface RunBackfillOptions {
  /** Identifies the driving process in the backfill's lock. */
  readonly owner: string;
  /** Between looks at the transients in flight. @default 500 */
  readonly pollMs?: number;
  /** Called after every step with the backfill as stored. */
  readonly onProgress?: (backfill: Backfill) => void;
  /** Stops the run (the backfill stays running, to be resumed). */
  readonly signal?: AbortSignal;
}

/** A lease on driving one backfill, renewed every step: a killed driver holds it up for at most this long (and the clock skew). */
export const BACKFILL_LEASE_MS = 10_000;

const pause = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    signal?.addEventListener('abort', stop, { once: true });
  });

const plusCounts = (counts: BackfillCounts, more: Partial<BackfillCounts>): BackfillCounts => ({
  selected: counts.selected + (more.selected ?? 0),
  reset: counts.reset + (more.reset ?? 0),
  done: counts.done + (more.done ?? 0),
  failed: counts.failed + (more.failed ?? 0),
  missing: counts.missing + (more.missing ?? 0),
});

/**
 * Drives a backfill until it is finished or cancelled (or `signal` stops it): resets the pending batch, looks at
 * the transients in flight, and takes the next batch from the selection when the window has room. Run it again
 * (another process, after a crash) and it continues from what is stored.
 */
export const runBackfill = async (engine: Engine, id: string, options: RunBackfillOptions): Promise<Backfill> => {
  const lease = () => ({ until: engine.clock() + BACKFILL_LEASE_MS, expiredBefore: engine.clock() - MAX_CLOCK_SKEW_MS });
  // A process killed while driving it holds its lease a little longer: wait that out, then take over.
  const giveUpAt = engine.clock() + BACKFILL_LEASE_MS + MAX_CLOCK_SKEW_MS + 1000;
  while (!(await engine.store.locks.acquire(lockOf(id), options.owner, lease()))) {
    if (engine.clock() > giveUpAt || options.signal?.aborted) throw new BackfillError(`backfill ${id} is being run by another process`);
    await pause(500, options.signal);
  }
  try {
    for (;;) {
      if (!(await engine.store.locks.acquire(lockOf(id), options.owner, lease()))) throw new BackfillError(`backfill ${id} was taken over by another process`);
      let backfill = await readBackfill(engine, id);
      if (!backfill) throw new BackfillError(`no backfill "${id}"`);
      const { state } = backfill;

      // 1. The batch written before its reset: reset those whose task's generation has not moved since.
      if (state.pending.length > 0) {
        const records = new Map((await engine.store.transients.getMany(state.pending.map((entry) => entry.name))).map((record) => [record.transient.name, record]));
        const reset: string[] = [];
        for (const entry of state.pending) {
          const record = records.get(entry.name);
          if (!record) continue;
          // A moved generation: reset already (by this backfill before a crash, or by anyone since it was written).
          if (generationOf(record.registers, state.task) === entry.g) {
            // Cancelled before its reset: left as it was.
            if (state.status !== BackfillStatus.Running) continue;
            if (!(await resetForBackfill(engine, entry.name, state.tasks))) continue;
          }
          reset.push(entry.name);
        }
        const missing = state.pending.length - [...records.keys()].length;
        backfill = await updateBackfill(engine, id, (current) =>
          current.pending.length === 0
            ? undefined
            : { ...current, pending: [], active: [...current.active, ...reset], counts: plusCounts(current.counts, { reset: reset.length, missing }) },
        );
        options.onProgress?.(backfill);
        continue;
      }

      // 2. The transients in flight: those that have finished leave the window.
      if (state.active.length > 0) {
        const records = await engine.store.transients.getMany(state.active);
        const outcomes = new Map(records.map((record) => [record.transient.name, backfillOutcome(engine.workflow, state.tasks, record.registers)]));
        const done = state.active.filter((name) => outcomes.get(name) === BackfillOutcome.Done);
        const failed = state.active.filter((name) => outcomes.get(name) === BackfillOutcome.Failed);
        const gone = state.active.filter((name) => !outcomes.has(name));
        if (done.length + failed.length + gone.length > 0) {
          const leaving = new Set([...done, ...failed, ...gone]);
          backfill = await updateBackfill(engine, id, (current) => ({
            ...current,
            active: current.active.filter((name) => !leaving.has(name)),
            counts: plusCounts(current.counts, { done: done.length, failed: failed.length, missing: gone.length }),
          }));
        }
      }

      const current = backfill.state;
      if (current.status !== BackfillStatus.Running) return backfill;
      if (current.exhausted && current.active.length === 0) {
        return updateBackfill(engine, id, (latest) =>
          latest.status === BackfillStatus.Running ? { ...latest, status: BackfillStatus.Finished, finishedAt: engine.clock() } : undefined,
        );
      }

      // 3. Room in the window: the next batch of the selection, written down before it is reset.
      const room = current.window - current.active.length;
      if (room > 0 && !current.exhausted) {
        const step = await walk(engine, current.task, current.selection, current.cursor, room);
        backfill = await updateBackfill(engine, id, (latest) =>
          latest.cursor !== current.cursor || latest.pending.length > 0 || latest.status !== BackfillStatus.Running
            ? undefined
            : {
                ...latest,
                pending: step.records.map((record) => ({ name: record.transient.name, g: generationOf(record.registers, latest.task) })),
                ...(step.cursor === undefined ? {} : { cursor: step.cursor }),
                exhausted: step.exhausted,
                counts: plusCounts(latest.counts, { selected: step.records.length, missing: step.missing }),
              },
        );
        options.onProgress?.(backfill);
        continue;
      }

      options.onProgress?.(backfill);
      if (options.signal?.aborted) return backfill;
      await pause(options.pollMs ?? 500, options.signal);
      if (options.signal?.aborted) return backfill;
    }
  } finally {
    await engine.store.locks.release(lockOf(id), options.owner);
  }
};
