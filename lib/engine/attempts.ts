/**
 * Run history's writes: one record per attempt, written once, when it ends (lib/engine/store.ts `RunRecord`). A run
 * writes its own when it settles. An attempt that never settles (its worker killed, its lease run out, its claim
 * taken by a reset) is written by whatever takes its claim over, from the register that names it — its token, start
 * (the claim's time) and attempt: the next claim (`lostAttemptOf` on the register the claim replaced), or a
 * write of the register through `reviseTransient` (the dead-letter handler's "time limit exceeded", a reset). Both
 * write under the same key (task, start, run), the lost one only if none is there, so each attempt has one record.
 */
import { Status } from '../domain/catalog';
import { DEFAULT_HISTORY_RETENTION_DAYS } from '../domain/limits';
import { type CurrentTask, type RunInputs, currentTasks, fingerprintOf, runInputs } from '../domain/staleness';
import { taskVersionOf } from '../domain/declaration';
import type { Register, Registers } from '../domain/workflow';
import type { TaskLogger, Transient, TransientTaskRunner } from '../runner';
import { type Engine, transientRunner } from './engine';
import type { RunRecord, TransientRecord } from './store';
import { Metric } from './telemetry';

const DAY_SECONDS = 86_400;

const currentByEngine = new WeakMap<Engine, ReadonlyMap<string, CurrentTask>>();

/** Each transient runner's current version and the fields it reads, by task (computed once per engine). */
export const currentTasksOf = (engine: Engine): ReadonlyMap<string, CurrentTask> => {
  let current = currentByEngine.get(engine);
  if (!current) {
    current = currentTasks(engine.runners.values());
    currentByEngine.set(engine, current);
  }
  return current;
};

/** What a run of `runner` on this transient records of where its result comes from. */
export interface Provenance {
  readonly version: string;
  readonly inputs: RunInputs;
  readonly fingerprint: string;
}

/** The provenance of a run, from the registers its claim read (the upstream results it can read). */
export const provenanceOf = (engine: Engine, runner: TransientTaskRunner, transient: Transient, registers: Registers): Provenance => {
  const inputs = runInputs(engine.workflow, currentTasksOf(engine).get(runner.taskName), transient, registers, runner.taskName);
  return { version: taskVersionOf(runner), inputs, fingerprint: fingerprintOf(inputs) };
};

/** When a record written now expires, in epoch seconds (DynamoDB's TTL). */
export const historyExpiry = (engine: Engine): number =>
  Math.ceil(engine.clock() / 1000) + (engine.historyRetentionDays ?? DEFAULT_HISTORY_RETENTION_DAYS) * DAY_SECONDS;

/**
 * Writes an attempt's record. History is what happened, not the state: a record that cannot be written is counted and
 * logged, and the run goes on (its register, the state, holds its result either way).
 */
export const recordAttempt = async (engine: Engine, run: Omit<RunRecord, 'expiresAt'>, log: TaskLogger, options: { readonly ifAbsent?: boolean } = {}): Promise<void> => {
  try {
    await engine.store.history.record({ ...run, expiresAt: historyExpiry(engine) }, options);
  } catch (error) {
    engine.metrics.add(run.task, Metric.HistoryWritesFailed);
    log.warn('could not record the attempt in the run history', { error, run: run.run, status: run.status });
  }
};

/** Whether `before` names an attempt that never settled and `after` no longer holds its claim. */
const isLost = (before: Register | undefined, after: Register | undefined): before is Register & { claim: string } =>
  before?.status === Status.Processing && before.claim !== undefined && after?.claim !== before.claim;

/**
 * The record of an attempt that never settled, from the register that held its claim (`lost`) and the transient's
 * registers (its upstream results, which do not change under a claim). Its version is the one the taker knows (a
 * "processing" register carries none: a few bytes more in every claim would push items past 1 KB). Its end is `now`, when its claim was taken;
 * its status "time limit exceeded" if its lease had run out, else "processing" (a reset took it while it may still
 * have been running: if it was, its own settle replaces this record).
 */
export const lostAttemptOf = (engine: Engine, task: string, lost: Register & { claim: string }, transient: Transient, registers: Registers, now: number, by: string): Omit<RunRecord, 'expiresAt'> | undefined => {
  const runner = transientRunner(engine, task);
  if (!runner) return undefined;
  const provenance = provenanceOf(engine, runner, transient, registers);
  const startedAt = lost.lastModified ?? now;
  const expired = (lost.leaseUntil ?? 0) < now;
  return {
    name: transient.name,
    task,
    run: lost.claim,
    attempt: lost.attempt ?? 0,
    startedAt,
    endedAt: now,
    durationMs: Math.max(0, now - startedAt),
    status: expired ? Status.TimeLimitExceeded : Status.Processing,
    error: expired ? `no result: the run ended without settling (killed or timed out); ${by} took its claim over` : `${by} took its claim while it ran; no result recorded`,
    recorded: false,
    lost: true,
    ...provenance,
    ...(lost.version === undefined ? {} : { version: lost.version }),
  };
};

/**
 * Records the attempts a write took the claims of: each task whose register was "processing" under a claim before
 * and holds another after. Written only where no record is (its run's own, if it did settle late, stays).
 */
export const recordLostAttempts = async (
  engine: Engine,
  transient: Transient,
  before: Registers,
  after: Registers,
  tasks: readonly string[],
  by: string,
  log: TaskLogger = engine.logger,
): Promise<void> => {
  const now = engine.clock();
  for (const task of tasks) {
    const lost = before[task];
    if (!isLost(lost, after[task])) continue;
    const run = lostAttemptOf(engine, task, lost, transient, before, now, by);
    if (run) await recordAttempt(engine, run, log, { ifAbsent: true });
  }
};

/**
 * The history record of a run that settled but whose worker may have died before writing it (its message came
 * back, to the worker or, after its last delivery, to the dead-letter handler): written from the register only if its
 * run's record is not there. The settle writes its end to 10 ms, so
 * that its start, the record's key, is its end less its processing seconds; its inputs are the registers' (they do
 * not change under a claim, nor after a settle without a reset, which would have moved the generation on).
 */
export const recordSettledAttempt = async (engine: Engine, current: TransientRecord, task: string, register: Register, log: TaskLogger): Promise<void> => {
  const runner = transientRunner(engine, task);
  const { claim } = register;
  if (!runner || claim === undefined || register.lastModified === undefined || register.deadLettered) return;
  const { name } = current.transient;
  const durationMs = Math.round((register.processingSeconds ?? 0) * 1000);
  await recordAttempt(
    engine,
    {
      name,
      task,
      run: claim,
      attempt: register.attempt ?? 0,
      startedAt: register.lastModified - durationMs,
      endedAt: register.lastModified,
      durationMs,
      status: register.status,
      ...(register.lastError === undefined ? {} : { error: register.lastError }),
      ...provenanceOf(engine, runner, current.transient, current.registers),
      ...(register.version === undefined ? {} : { version: register.version }),
    },
    log,
    { ifAbsent: true },
  );
};
