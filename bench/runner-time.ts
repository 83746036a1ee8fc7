/**
 * How long the runners' own work took within each invocation, so that the Lambda time billed to the
 * framework leaves out the science. The bundled handlers and the pipeline child each have their own copy
 * of this module; they share one AsyncLocalStorage through a global symbol.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type AnyRunner, type TransientTaskRunner, isTransientRunner } from '../lib/runner';

export interface InvocationLedger {
  /** [start, end] in performance.now() ms of each runner's process() call. */
  readonly runnerIntervals: [number, number][];
}

const KEY = Symbol.for('blast-tasks.bench.invocation-ledger');

export const invocationLedger = (): AsyncLocalStorage<InvocationLedger> => {
  const global = globalThis as Record<symbol, AsyncLocalStorage<InvocationLedger> | undefined>;
  const existing = global[KEY];
  if (existing) return existing;
  const created = new AsyncLocalStorage<InvocationLedger>();
  global[KEY] = created;
  return created;
};

/** The time the intervals cover together (records of a batch run side by side), within [from, to]. */
export const coveredMs = (intervals: readonly (readonly [number, number])[], from: number, to: number): number => {
  const clipped = intervals
    .map(([start, end]): [number, number] => [Math.max(from, start), Math.min(to, end)])
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let reach = from;
  for (const [start, end] of clipped) {
    if (end <= reach) continue;
    covered += end - Math.max(start, reach);
    reach = end;
  }
  return covered;
};

/** The same runners, each process() call timed into the current invocation's ledger. */
export const timedRunners = (runners: readonly AnyRunner[]): AnyRunner[] =>
  runners.map((runner) => {
    if (!isTransientRunner(runner)) return runner;
    const timed: TransientTaskRunner = Object.create(runner, {
      process: {
        value: async (...args: Parameters<TransientTaskRunner['process']>) => {
          const started = performance.now();
          try {
            return await runner.process(...args);
          } finally {
            invocationLedger().getStore()?.runnerIntervals.push([started, performance.now()]);
          }
        },
      },
    });
    return timed;
  });
