/**
 * What an operator does to the pipeline: retrigger and reprocess a transient, list transients by
 * processing status, read and redrive dead letters. Resets go through the same compare-and-set loop as the
 * dead-letter handler and drop the claims they replace, so a run still in flight cannot overwrite them
 * (its settle is conditioned on its claim); the tasks a reset makes ready go out at once.
 */
import { Status, StatusType, statusTypeOf } from '../domain/catalog';
import { PoisonMessageError } from '../domain/errors';
import { Lane } from '../domain/lanes';
import { type TaskMessage, parseTaskMessage } from '../domain/messages';
import { MAX_CLOCK_SKEW_MS, RETRY_RETURN_GRACE_MS, STALE_RUN_MS, visibilityTimeoutSeconds } from '../domain/time';
import {
  ProcessingStatus,
  type Register,
  type Registers,
  generationOf,
  processingStatus,
  resetRegister,
  statusOf,
  unheldReadyTasks,
} from '../domain/workflow';
import { type DeadLetterRecord, STATUS_INDEX_SHARDS, type TransientRecord } from './store';
import { type Engine, transientRunner } from './engine';
import { type SendOutcome, type UnsentTask, markersFor, sendRecorded, updateTransient } from './transitions';
import { outputData } from './run-outputs';

export interface ResetTask {
  readonly task: string;
  /** The status the register had before the reset. */
  readonly from: string;
}

export interface ResetResult {
  readonly name: string;
  readonly before: ProcessingStatus;
  readonly after: ProcessingStatus;
  /** Registers set back to "not processed". */
  readonly reset: readonly ResetTask[];
  /** Ready tasks, recorded with the reset (as ready markers in its transaction) and sent at once. */
  readonly sent: readonly string[];
  /** Ready tasks recorded with the reset whose send failed: they wait for the dispatcher's next run. */
  readonly unsent: readonly UnsentTask[];
  /** Ready tasks recorded with the reset and left to the dispatcher by design (a runner not enabled). */
  readonly waiting: readonly string[];
  /** Tasks whose run was in flight: a reprocess discards its result, a retrigger lets it finish. */
  readonly inFlight: readonly string[];
}

/**
 * A "processing" register whose run may still be going. Only a lease that ended STALE_RUN_MS ago by this
 * caller's clock counts as a dead run, so a caller whose clock runs fast (an operator's laptop) never resets a
 * live one; runs that die are recovered long before that by SQS redelivery and the dead-letter handler.
 */
const mayBeLive = (register: Register | undefined, now: number) =>
  register?.status === Status.Processing && (register.leaseUntil ?? 0) + STALE_RUN_MS >= now;

/**
 * Resets the registers `select` picks and, in the same transaction, records every task that is ready
 * afterwards as a ready marker: those the reset made ready and those that were ready already but may have lost
 * their message. Then sends what it can at once. A crash after the write loses nothing: the markers stay for
 * the dispatcher. Returns undefined for an unknown transient.
 */
const resetTransient = async (
  engine: Engine,
  name: string,
  select: (record: TransientRecord, now: number) => ResetTask[],
  lane: Lane = Lane.Live,
): Promise<ResetResult | undefined> => {
  const { workflow } = engine;
  let plan: ResetTask[] = [];
  let now = engine.clock();
  const change = await updateTransient(
    engine,
    name,
    (record) => {
      now = engine.clock();
      plan = select(record, now);
      return plan.length > 0 ? Object.fromEntries(plan.map(({ task }) => [task, resetRegister(now, record.registers[task], lane)])) : undefined;
    },
    { ready: (_, after) => unheldReadyTasks(workflow, after) },
  );
  if (!change) return undefined;
  const { before, after } = change;
  // Nothing was written (nothing to reset): still, tasks ready with no message holding them are sent again.
  const { ready, sent, unsent } = change.changed.length > 0 ? change : await resendReady(engine, after);
  // A dead letter whose register was reset has nothing left to redrive.
  await Promise.all(
    plan.filter(({ task }) => before.registers[task]?.deadLettered).map(({ task }) => engine.store.deadLetters.delete(task, name)),
  );
  return {
    name,
    before: processingStatus(workflow, before.registers),
    after: processingStatus(workflow, after.registers),
    reset: plan,
    sent,
    unsent,
    waiting: ready.filter((task) => !sent.includes(task) && !unsent.some((failed) => failed.task === task)),
    inFlight: workflow.order.filter((task) => mayBeLive(before.registers[task], now)),
  };
};

/** Records the ready tasks no message holds as ready markers, then sends them (a retrigger that reset nothing). */
const resendReady = async (engine: Engine, record: TransientRecord): Promise<SendOutcome & { ready: string[] }> => {
  const ready = unheldReadyTasks(engine.workflow, record.registers).filter((task) => transientRunner(engine, task));
  if (ready.length === 0) return { ready, sent: [], unsent: [] };
  const markers = markersFor(engine, record, ready, engine.clock());
  await engine.store.readiness.put(markers);
  return { ready, ...(await sendRecorded(engine, markers)) };
};

/**
 * Blast's retrigger: resumes an incomplete workflow. Error statuses are retried (they may have failed for
 * operational rather than intrinsic reasons) and runs that died without a result are reset; runs still in
 * flight are left to finish. A completed transient is left as it is.
 */
export const retrigger = (engine: Engine, name: string): Promise<ResetResult | undefined> =>
  resetTransient(engine, name, (record, now) => {
    const { catalog, order } = engine.workflow;
    return order.flatMap((task) => {
      const register = record.registers[task];
      const status = statusOf(record.registers, task);
      const failed = statusTypeOf(catalog, status) === StatusType.Error;
      const died = status === Status.Processing && !mayBeLive(register, now);
      // A retry whose message never came back (its delivery ran after the message was deleted, say) holds the
      // task for nobody: reset once its time is STALE_RUN_MS past, as for a dead run.
      const orphaned = status === Status.NotProcessed && register?.claim !== undefined && (register.retryAt ?? 0) + STALE_RUN_MS < now;
      return failed || died || orphaned ? [{ task, from: status }] : [];
    });
  });

/**
 * The tasks of a record that nothing will run any more, and their registers released for another message:
 * - a "processing" one whose run's message should have come back by now (claimed more than its queue's
 *   visibility timeout, the clock skew and RETRY_RETURN_GRACE_MS ago) and has not taken it over;
 * - a "not processed" one held by a retry whose message should have come back RETRY_RETURN_GRACE_MS ago.
 * Their message is gone: a delivery ran after its message was deleted, then died or lost its retry. The
 * released register keeps its generation, so if the message was only late (a backlog) it still claims, with its
 * own receive count (a copy that comes after it is dropped): the attempts that lead to the failed status are
 * never reset by the sweep.
 */
const STALLED_GRACE_MS = MAX_CLOCK_SKEW_MS + RETRY_RETURN_GRACE_MS;
const stalledRegisters = (engine: Engine, record: TransientRecord, now: number): Record<string, Register> =>
  Object.fromEntries(
    engine.workflow.order.flatMap((task) => {
      const register = record.registers[task];
      const runner = transientRunner(engine, task);
      if (!register || !runner) return [];
      const deadRun = register.status === Status.Processing && (register.lastModified ?? 0) + visibilityTimeoutSeconds(runner.timeoutSeconds) * 1000 + STALLED_GRACE_MS < now;
      const lostRetry = register.status === Status.NotProcessed && register.claim !== undefined && (register.retryAt ?? 0) + STALLED_GRACE_MS < now;
      if (!deadRun && !lostRetry) return [];
      const released: Register = {
        status: Status.NotProcessed,
        lastModified: now,
        ...(register.generation === undefined ? {} : { generation: register.generation }),
        ...(register.attempt === undefined ? {} : { attempt: register.attempt }),
      };
      return [[task, released]];
    }),
  );

/** Page size of the recovery sweep's walk over the "processing" transients. */
const RECOVERY_PAGE = 100;

/**
 * The recovery sweep: walks the "processing" transients (the processing-status index, then their items a page
 * at a time) and releases their stalled tasks, recording those now ready as ready markers in the same write (the
 * dispatcher sends them). It runs on a schedule, by the engine's clock. Returns how many it looked at and which
 * it recovered.
 */
export const recoverStalledTransients = async (engine: Engine): Promise<{ checked: number; recovered: string[] }> => {
  let checked = 0;
  const recovered: string[] = [];
  for (let shard = 0; shard < STATUS_INDEX_SHARDS; shard++) {
    let after: string | undefined;
    for (;;) {
      const page = await engine.store.transients.statusPage(ProcessingStatus.Processing, shard, RECOVERY_PAGE, after);
      const records = await engine.store.transients.getMany(page.entries.map((entry) => entry.name));
      checked += records.length;
      // Given the record just read, a transient with nothing stalled costs no call.
      for (const record of records) {
        const change = await updateTransient(engine, record.transient.name, (current) => {
          const released = stalledRegisters(engine, current, engine.clock());
          return Object.keys(released).length > 0 ? released : undefined;
        }, { current: record, ready: (_, after, changed) => unheldReadyTasks(engine.workflow, after).filter((task) => changed.includes(task)), takenBy: 'the recovery sweep' });
        if (change && change.changed.length > 0) recovered.push(record.transient.name);
      }
      const last = page.entries.at(-1);
      if (!page.more || !last) break;
      after = last.priority;
    }
  }
  return { checked, recovered };
};

/**
 * Blast's reprocess: every task back to "not processed" and the workflow runs again. Runs in flight lose
 * their claim, so their results are refused when they finish.
 */
export const reprocess = (engine: Engine, name: string): Promise<ResetResult | undefined> =>
  resetTransient(engine, name, (record) => engine.workflow.order.map((task) => ({ task, from: statusOf(record.registers, task) })));

/**
 * A backfill's reset (lib/engine/backfill.ts): `tasks` back to "not processed" in the backfill lane, so that what
 * they make ready waits in the ready index for the dispatcher, behind live work. Runs in flight lose their claim,
 * as for a reprocess.
 */
export const resetForBackfill = (engine: Engine, name: string, tasks: readonly string[]): Promise<ResetResult | undefined> =>
  resetTransient(engine, name, (record) => tasks.map((task) => ({ task, from: statusOf(record.registers, task) })), Lane.Backfill);

export interface ListOptions {
  /** The processing statuses to list; all of them when empty. */
  readonly statuses?: readonly ProcessingStatus[];
  readonly limit: number;
  /** Continue after this priority key (the `next` of the previous page). */
  readonly after?: string;
}

export interface ListPage {
  /** Oldest public timestamp first. */
  readonly records: TransientRecord[];
  /** The priority key to pass as `after` for the next page; absent on the last page. */
  readonly next?: string;
}

/**
 * One page of transients by processing status, oldest public timestamp first, read from the status index
 * (one query per status partition, merged) and the items of that page only: no table scan.
 */
export const listTransients = async (engine: Engine, options: ListOptions): Promise<ListPage> => {
  const statuses = options.statuses?.length ? options.statuses : Object.values(ProcessingStatus);
  // One more than a page from each partition tells whether anything follows the page.
  const pages = await Promise.all(
    statuses.flatMap((status) =>
      Array.from({ length: STATUS_INDEX_SHARDS }, (_, shard) => engine.store.transients.statusPage(status, shard, options.limit + 1, options.after)),
    ),
  );
  const merged = pages.flatMap((page) => page.entries).sort((a, b) => (a.priority < b.priority ? -1 : a.priority > b.priority ? 1 : 0));
  const page = merged.slice(0, options.limit);
  const byName = new Map((await engine.store.transients.getMany(page.map((entry) => entry.name))).map((record) => [record.transient.name, record]));
  const records = page.flatMap((entry) => byName.get(entry.name) ?? []);
  const last = page.at(-1);
  return { records, ...(merged.length > options.limit && last ? { next: last.priority } : {}) };
};

/** Every dead-letter record of a task, oldest first, read page by page. */
export const deadLettersOf = async (engine: Engine, task: string): Promise<DeadLetterRecord[]> => {
  const records: DeadLetterRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await engine.store.deadLetters.page(task, 100, cursor);
    records.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return records.sort((a, b) => a.at - b.at);
};

export interface RedriveResult {
  /** Transients whose message went back to the runner's queue; their dead-letter records are gone. */
  readonly redriven: string[];
  /** Records left in place, with why. */
  readonly skipped: { name: string; reason: string }[];
  /**
   * Registers reset and recorded as ready (the dispatcher sends them on its next run) whose send failed now;
   * their records are kept, so a later redrive sends them again.
   */
  readonly unsent: { name: string; error?: Error }[];
}

/**
 * Gives dead letters another try: each dead-lettered register goes back to "not processed", which makes the
 * task ready again and sends it to its runner's queue at once, and the record is removed. A record whose
 * register has moved on since (a retrigger, another run) is sent back as it is, and the claim decides.
 */
export const redriveDeadLetters = async (engine: Engine, task: string, only?: readonly string[]): Promise<RedriveResult> => {
  const wanted = only?.length ? new Set(only) : undefined;
  const records = (await deadLettersOf(engine, task)).filter((record) => !wanted || wanted.has(record.name));
  const skipped: RedriveResult['skipped'] = [...(wanted ?? [])]
    .filter((name) => !records.some((record) => record.name === name))
    .map((name) => ({ name, reason: `no dead letter of "${task}" for this transient` }));
  const redriven: string[] = [];
  const unsent: RedriveResult['unsent'] = [];
  for (const record of records) {
    let message: TaskMessage;
    try {
      message = parseTaskMessage(record.body);
    } catch (error) {
      if (!(error instanceof PoisonMessageError)) throw error;
      skipped.push({ name: record.name, reason: error.message });
      continue;
    }
    if (message.task !== task || !transientRunner(engine, task)) {
      skipped.push({ name: record.name, reason: `the message is for "${message.task}", not a runner of this queue` });
      continue;
    }
    const now = engine.clock();
    const change = await updateTransient(engine, message.transient, (current) =>
      current.registers[task]?.deadLettered ? { [task]: resetRegister(now, current.registers[task]) } : undefined,
    );
    const failed = change?.unsent.find((candidate) => candidate.task === task);
    if (failed) {
      unsent.push({ name: record.name, ...(failed.error ? { error: failed.error } : {}) });
      continue;
    }
    if (!change?.changed.length) {
      const g = change ? generationOf(change.after.registers, task) : (message.g ?? 0);
      const [unsent] = await engine.queues.send(task, [{ ...message, readyAt: now, g }]);
      if (unsent) {
        skipped.push({ name: record.name, reason: 'the queue refused the message; the record is kept' });
        continue;
      }
    }
    // Only this record: one filed since (a later dead letter of the task) stays.
    await engine.store.deadLetters.delete(task, record.name, record.messageId);
    redriven.push(record.name);
  }
  return { redriven, skipped, unsent };
};

/** What a task saved for a transient: the output of the run whose result its register holds (undefined if none). */
export const outputOf = async <T extends object = Record<string, unknown>>(engine: Engine, name: string, task: string): Promise<T | undefined> => {
  const token = (await engine.store.transients.get(name))?.registers[task]?.claim;
  return token === undefined ? undefined : outputData<T>(engine, await engine.store.outputs.read(name, task, token));
};

/** Registers by transient, for showing dead letters next to the status they left behind. */
export const registersOf = async (engine: Engine, names: readonly string[]): Promise<Map<string, Registers>> =>
  new Map((await engine.store.transients.getMany(names)).map((record) => [record.transient.name, record.registers]));
