/**
 * Run history and provenance: what each attempt records besides the register — its version, the fingerprint of its
 * inputs and the inputs themselves, where it ran and logged, what it put — as an item of its own, written whole
 * (no read) at the claim and again when it ends, kept for the retention the operator sets.
 */
import { DEFAULT_HISTORY_RETENTION_DAYS } from '../domain/limits';
import { type CurrentTask, type RunInputs, currentTasks, fingerprintOf, runInputs } from '../domain/staleness';
import { taskVersionOf } from '../domain/declaration';
import type { Registers } from '../domain/workflow';
import type { TaskLogger, Transient, TransientTaskRunner } from '../runner';
import type { Engine } from './engine';
import type { RunRecord } from './store';
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
export const recordAttempt = async (engine: Engine, run: Omit<RunRecord, 'expiresAt'>, log: TaskLogger): Promise<void> => {
  try {
    await engine.store.history.record({ ...run, expiresAt: historyExpiry(engine) });
  } catch (error) {
    engine.metrics.add(run.task, Metric.HistoryWritesFailed);
    log.warn('could not record the attempt in the run history', { error, run: run.run, status: run.status });
  }
};
