/**
 * Chaining latency of fresh transients while a large backfill runs, against the same without it: the whole local
 * pipeline (no-op runners with the example's settings, its dispatchers and event sources), a table holding
 * `backfillTransients` finished transients, fresh ones ingested at a steady rate. The backfill re-runs the whole
 * workflow (from its first task) over every older transient, at its default share, and keeps running while the
 * fresh ones go through; its own progress over that time is reported beside it.
 *
 * Latency per edge of a fresh transient's workflow: from the last prerequisite's settle to the task's claim, read
 * from the finished registers (the claim is the settle less the run's duration, to 10 ms).
 */
import { Status } from '../lib/domain/catalog';
import { CountBucket } from '../lib/domain/counts';
import { type Registers, dependencyEdges, freshRegister } from '../lib/domain/workflow';
import { cancelBackfill, createBackfill, readBackfill, runBackfill } from '../lib/engine/backfill';
import { chunk, forEachLimited } from '../lib/engine/concurrency';
import type { Engine } from '../lib/engine/engine';
import { ingestTransients } from '../lib/engine/ingest';
import { LocalRuntime } from '../lib/local/runtime';
import type { AnyRunner, Transient } from '../lib/runner';
import { isTransientRunner } from '../lib/runner';
import { percentile, round } from './stats';
import { syntheticTransients } from './transients';

export interface BackfillLatencyOptions {
  readonly runners: readonly AnyRunner[];
  readonly fixturesDir: string;
  readonly endpoints: { readonly dynamodb: string; readonly sqs: string };
  readonly tickMs: number;
  readonly prefix: string;
  /** Finished transients the backfill goes over (the figure: 10,000). */
  readonly backfillTransients: number;
  /** Fresh transients ingested in each run, and how many a second. */
  readonly freshTransients: number;
  readonly freshPerSecond: number;
  readonly progress: (text: string) => void;
}

export interface LatencyFigures {
  readonly edges: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** From ingest to the last task's settle, per fresh transient. */
  readonly workflowP50Ms: number;
}

export interface BackfillLatency {
  readonly backfillTransients: number;
  readonly freshTransients: number;
  readonly freshPerSecond: number;
  readonly without: LatencyFigures;
  readonly during: LatencyFigures;
  /** The backfill's own progress while the fresh transients went through. */
  readonly backfill: { readonly window: number; readonly finished: number; readonly seconds: number };
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const figures = (engine: Engine, records: readonly { registers: Registers; createdAt: number }[]): LatencyFigures => {
  const edges: number[] = [];
  const workflows: number[] = [];
  for (const { registers, createdAt } of records) {
    let last = 0;
    for (const task of engine.workflow.order) {
      const spec = engine.workflow.specs.get(task);
      const register = registers[task];
      if (!spec || register?.lastModified === undefined) continue;
      last = Math.max(last, register.lastModified);
      const after = dependencyEdges(spec).map((on) => registers[on]?.lastModified ?? 0);
      if (after.length === 0) continue;
      const claimedAt = register.lastModified - (register.processingSeconds ?? 0) * 1000;
      edges.push(Math.max(0, claimedAt - Math.max(...after)));
    }
    workflows.push(last - createdAt);
  }
  return { edges: edges.length, p50Ms: round(percentile(edges, 50)), p99Ms: round(percentile(edges, 99)), workflowP50Ms: round(percentile(workflows, 50)) };
};

/** Ingests the fresh transients one at a time at the rate, then waits until every one is completed. */
const runFresh = async (engine: Engine, transients: readonly Transient[], perSecond: number): Promise<LatencyFigures> => {
  const started = Date.now();
  for (const [index, transient] of transients.entries()) {
    const due = started + (index * 1000) / perSecond;
    if (due > Date.now()) await wait(due - Date.now());
    await ingestTransients(engine, [transient]);
  }
  const names = transients.map((transient) => transient.name);
  for (;;) {
    const records = await engine.store.transients.getMany(names);
    if (records.length === names.length && records.every((record) => record.processingStatus !== 'processing')) return figures(engine, records);
    await wait(250);
  }
};

/** The handlers run in this process: their log lines and metrics would fill the benchmark's stdout. */
const QUIET = { POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' } as const;

export const measureBackfillLatency = async (options: BackfillLatencyOptions): Promise<BackfillLatency> => {
  // The runtime sets its environment on this process, as Lambda sets a function's, and puts it back when it stops: the
  // stages after this one run their handlers in children that inherit it, and count finished transients from metrics.
  const runtime = await LocalRuntime.start({
    runners: options.runners,
    fixturesDir: options.fixturesDir,
    tickMs: options.tickMs,
    prefix: options.prefix,
    endpoints: options.endpoints,
    environment: QUIET,
  });
  try {
    const { engine } = runtime;
    runtime.run();
    // The older transients, finished (every register processed), written as they are: the backfill's subject.
    options.progress(`backfill latency: writing ${options.backfillTransients} finished transients`);
    const old = syntheticTransients(options.backfillTransients).map((transient) => ({ ...transient, name: `old-${transient.name}` }));
    const tasks = options.runners.filter(isTransientRunner).map((runner) => runner.taskName);
    const processed = Object.fromEntries(tasks.map((task) => [task, { ...freshRegister(Date.now()), status: Status.Processed }]));
    await forEachLimited(chunk(old, 25), 8, async (batch) => {
      await engine.store.transients.create(batch.map((transient) => ({ transient, registers: processed, bucket: CountBucket.Completed, markers: [] })), Date.now());
    });
    // Fresh transients: published after every older one.
    const fresh = (run: string) =>
      syntheticTransients(options.freshTransients).map((transient, index) => ({ ...transient, name: `${run}-${transient.name}`, publicTimestamp: new Date(Date.UTC(2030, 0, 1, 0, 0, index)).toISOString() }));

    // A few first, unmeasured: DynamoDB Local's JIT warms for a while, which would count against whichever run came first.
    options.progress('backfill latency: warming up');
    await runFresh(engine, fresh('warm').slice(0, 10), options.freshPerSecond * 2);
    options.progress(`backfill latency: ${options.freshTransients} fresh transients at ${options.freshPerSecond}/s, no backfill`);
    const without = await runFresh(engine, fresh('calm'), options.freshPerSecond);

    const first = engine.workflow.order[0] as string;
    const created = await createBackfill(engine, { task: first, selection: { kind: 'time', field: 'public', to: '2029-01-01T00:00:00.000Z' } });
    const controller = new AbortController();
    const driving = runBackfill(engine, created.id, { owner: 'bench', pollMs: 250, signal: controller.signal });
    // Until the backfill's window is full and its work in the queues.
    for (let i = 0; i < 40 && ((await readBackfill(engine, created.id))?.state.active.length ?? 0) < created.state.window; i++) await wait(250);
    const before = (await readBackfill(engine, created.id))?.state.counts;
    const startedAt = Date.now();
    options.progress(`backfill latency: the same while a backfill of "${first}" runs over ${options.backfillTransients} transients (window ${created.state.window})`);
    const during = await runFresh(engine, fresh('busy'), options.freshPerSecond);
    const after = (await readBackfill(engine, created.id))?.state.counts;
    const seconds = (Date.now() - startedAt) / 1000;
    await cancelBackfill(engine, created.id);
    controller.abort();
    await driving;
    return {
      backfillTransients: options.backfillTransients,
      freshTransients: options.freshTransients,
      freshPerSecond: options.freshPerSecond,
      without,
      during,
      backfill: { window: created.state.window, finished: (after?.done ?? 0) + (after?.failed ?? 0) - (before?.done ?? 0) - (before?.failed ?? 0), seconds: round(seconds, 1) },
    };
  } finally {
    await runtime.stop();
  }
};

export const renderBackfillLatency = (result: BackfillLatency): string[] => [
  `Fresh-transient chaining latency with a backfill of ${result.backfillTransients} transients running (${result.freshTransients} fresh at ${result.freshPerSecond}/s)`,
  `  without a backfill   p50 ${result.without.p50Ms} ms · p99 ${result.without.p99Ms} ms over ${result.without.edges} edges · workflow p50 ${result.without.workflowP50Ms} ms`,
  `  during the backfill  p50 ${result.during.p50Ms} ms · p99 ${result.during.p99Ms} ms over ${result.during.edges} edges · workflow p50 ${result.during.workflowP50Ms} ms`,
  `  the backfill meanwhile: ${result.backfill.finished} transients re-run in ${result.backfill.seconds} s, at most ${result.backfill.window} at once`,
];
