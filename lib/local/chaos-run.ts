/**
 * A chaos run on the local runtime: ingest, let the plan's faults and the driver's operator actions and
 * poison messages hit the pipeline, wait until every transient is completed or blocked (or deleted), every
 * queue and dead-letter queue is drained and the ready index is empty, then check the invariants.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../domain/errors';
import { ProcessingStatus, processingStatus } from '../domain/workflow';
import { ingestTransients } from '../engine/ingest';
import type { LocalRuntime } from './runtime';
import type { Transient } from '../runner';
import type { TransientRecord } from '../engine/store';
import { ChaosDriver, type DriverRates, defaultDriverRates } from '../chaos/driver';
import { type Violation, checkInvariants, checkReadiness } from '../chaos/invariants';
import { type JournalEvent, faultCounts, fileJournal, followJournal, readJournal } from '../chaos/journal';
import { allMarkers, finalState, observe, pendingMessages, recountForCheck } from '../chaos/observe';

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
    const records = await engine.store.transients.getMany(names);
    await options.onStep?.(records);
    const finished = records.every((record) => processingStatus(engine.workflow, record.registers) !== ProcessingStatus.Processing);
    if (finished && (await pendingMessages(runtime.sqs, runtime.queueUrls())) === 0 && (await allMarkers(engine)).length === 0) return true;
    await sleep(250);
  }
  return false;
};

/**
 * Watches a running chaos run: at each look, every ready task must be recorded as ready somewhere (principle
 * 2). Each lost readiness is reported once.
 */
export class ReadinessWatch {
  private readonly seen = new Set<string>();
  private readonly events: () => readonly JournalEvent[];
  readonly violations: Violation[] = [];
  looks = 0;

  constructor(
    private readonly runtime: LocalRuntime,
    journal: string,
  ) {
    this.events = followJournal(journal);
  }

  async look(names: readonly string[]): Promise<void> {
    const observation = await observe(this.runtime.engine, names);
    // Read after the look, so that every message sent before it ended is known.
    const events = this.events();
    this.looks++;
    for (const violation of checkReadiness(this.runtime.engine.workflow, observation, events)) {
      const key = JSON.stringify([violation.transient, violation.task, violation.detail]);
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.violations.push(violation);
    }
  }
}

/**
 * Checks the invariants over the run's journal and what it left behind, after a last look for lost readiness
 * and a recount of the counters (as the scheduled recount would do).
 */
export const checkRun = async (runtime: LocalRuntime, names: readonly string[], watch?: ReadinessWatch) => {
  const journal = runtime.chaos?.journal;
  if (!journal) throw new ConfigError('checking a chaos run needs a runtime started with a fault plan that names a journal file');
  const readiness = watch ?? new ReadinessWatch(runtime, journal);
  await readiness.look(names);
  const counters = await recountForCheck(runtime.engine);
  const state = { ...(await finalState(runtime.engine, runtime.sqs, runtime.queueUrls(), names)), counters };
  const events = readJournal(journal);
  const violations = [...readiness.violations, ...checkInvariants(runtime.engine.workflow, events, state)];
  return { state, events, faults: faultCounts(events), violations, looks: readiness.looks };
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
  const watch = new ReadinessWatch(runtime, plan.journal);
  const settled = await waitUntilSettled(runtime, names, {
    timeoutMs: options.timeoutMs,
    onStep: async (records) => {
      options.onProgress?.(records, Date.now() - started);
      await driver.step(records);
      await watch.look(names);
    },
  });
  const { state, events, faults, violations } = await checkRun(runtime, names, watch);
  return { seed: plan.seed, faults, violations, records: state.records, settled, elapsedMs: Date.now() - started, journal: plan.journal, events };
};
