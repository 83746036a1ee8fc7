/**
 * A chaos run on the local runtime: ingest, let the plan's faults and the driver's operator actions and
 * poison messages hit the pipeline, wait until every transient is completed or blocked (or deleted), every
 * queue and dead-letter queue is drained and the ready index is empty, then check the invariants.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../domain/errors';
import { ProcessingStatus, processingStatus } from '../domain/workflow';
import { ingestTransients } from '../engine/ingest';
import type { LocalRuntime } from '../local/runtime';
import type { Transient } from '../runner';
import type { TransientRecord } from '../store/task-store';
import { ChaosDriver, type DriverRates, defaultDriverRates } from './driver';
import { type Violation, checkInvariants } from './invariants';
import { type JournalEvent, faultCounts, fileJournal, readJournal } from './journal';
import { finalState, pendingMessages, readyMarkers } from './observe';

export interface ChaosRunOptions {
  readonly transients: readonly Transient[];
  /** How often the driver reprocesses, retriggers or deletes a transient mid-run (default: defaultDriverRates). */
  readonly operator?: DriverRates;
  /** Send one poison message of each kind. */
  readonly poison?: boolean;
  /** Give up waiting for the run to settle after this long (the invariants are checked all the same). */
  readonly timeoutMs: number;
  /** Called about four times a second with the transients' records while the run goes on. */
  readonly onProgress?: (records: readonly TransientRecord[], elapsedMs: number) => void;
}

export interface ChaosReport {
  readonly seed: number;
  /** Injected faults and operator actions by kind. */
  readonly faults: ReadonlyMap<string, number>;
  readonly violations: readonly Violation[];
  readonly records: readonly TransientRecord[];
  /** The run settled before the timeout. */
  readonly settled: boolean;
  readonly elapsedMs: number;
  readonly journal: string;
  readonly events: readonly JournalEvent[];
}

/** Waits until the run has settled: nothing processing, every queue drained, no ready marker left. */
export const waitUntilSettled = async (
  runtime: LocalRuntime,
  names: readonly string[],
  options: { readonly timeoutMs: number; readonly onStep?: (records: readonly TransientRecord[]) => Promise<void> | void },
): Promise<boolean> => {
  const { engine } = runtime;
  const started = Date.now();
  while (Date.now() - started < options.timeoutMs) {
    const records = await engine.store.getMany(names);
    await options.onStep?.(records);
    const finished = records.every((record) => processingStatus(engine.workflow, record.registers) !== ProcessingStatus.Processing);
    if (finished && (await pendingMessages(runtime.sqs, runtime.queueUrls())) === 0 && (await readyMarkers(engine)) === 0) return true;
    await sleep(250);
  }
  return false;
};

/** Checks the invariants over the run's journal and what it left behind. */
export const checkRun = async (runtime: LocalRuntime, names: readonly string[]) => {
  const journal = runtime.chaos?.journal;
  if (!journal) throw new ConfigError('checking a chaos run needs a runtime started with a fault plan that names a journal file');
  const state = await finalState(runtime.engine, runtime.sqs, runtime.queueUrls(), names);
  const events = readJournal(journal);
  return { state, events, faults: faultCounts(events), violations: checkInvariants(runtime.engine.workflow, events, state) };
};

export const runUnderChaos = async (runtime: LocalRuntime, options: ChaosRunOptions): Promise<ChaosReport> => {
  const plan = runtime.chaos;
  if (!plan?.journal) throw new ConfigError('a chaos run needs a runtime started with a fault plan that names a journal file');
  const { engine } = runtime;
  const queueUrls = Object.fromEntries(runtime.resources.queues.map((queue) => [queue.task, queue.url]));
  const driver = new ChaosDriver(engine, runtime.sqs, queueUrls, plan.seed, options.operator ?? defaultDriverRates, fileJournal(plan.journal));
  const names = options.transients.map((transient) => transient.name);
  const started = Date.now();

  // Half the transients go out at once, half are left to the dispatcher, so both paths meet the faults.
  const announced = options.transients.filter((_, index) => index % 2 === 0);
  await ingestTransients(engine, announced, { announce: true });
  await ingestTransients(engine, options.transients.filter((_, index) => index % 2 === 1), { announce: false });
  if (options.poison && names[0]) await driver.sendPoison(names[0]);
  const settled = await waitUntilSettled(runtime, names, {
    timeoutMs: options.timeoutMs,
    onStep: async (records) => {
      options.onProgress?.(records, Date.now() - started);
      await driver.step(records);
    },
  });
  const { state, events, faults, violations } = await checkRun(runtime, names);
  return { seed: plan.seed, faults, violations, records: state.records, settled, elapsedMs: Date.now() - started, journal: plan.journal, events };
};
