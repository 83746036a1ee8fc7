/**
 * Where each invocation's time went: the runners' own work (their science, not the framework's) and the
 * framework's calls to DynamoDB and SQS, so that the Lambda time billed to the framework leaves out the
 * science and can be projected from the local stand-ins' latency to AWS's. The bundled handlers and the
 * pipeline child each have their own copy of this module; they share one AsyncLocalStorage through a
 * global symbol.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { type AnyRunner, type TransientTaskRunner, isTransientRunner } from '../lib/runner';

export interface ServiceCall {
  /** `host:port` the call went to. */
  readonly host: string;
  readonly start: number;
  readonly end: number;
}

export interface InvocationLedger {
  /** [start, end] in performance.now() ms of each runner's process() call. */
  readonly runnerIntervals: [number, number][];
  /** HTTP calls made during the invocation (the AWS SDK's), runners' included. */
  readonly calls: ServiceCall[];
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

const pending = new WeakMap<object, { ledger: InvocationLedger; start: number; host: string }>();
let watching = false;

/** Records every HTTP call made within an invocation into its ledger, through Node's diagnostics channels. */
export const watchServiceCalls = (): void => {
  if (watching) return;
  watching = true;
  subscribe('http.client.request.start', (message) => {
    const request = (message as { request?: ClientRequest }).request;
    const ledger = invocationLedger().getStore();
    if (request && ledger) pending.set(request, { ledger, start: performance.now(), host: String(request.getHeader('host') ?? request.host) });
  });
  subscribe('http.client.response.finish', (message) => {
    const request = (message as { request?: ClientRequest }).request;
    const entry = request && pending.get(request);
    if (!entry) return;
    entry.ledger.calls.push({ host: entry.host, start: entry.start, end: performance.now() });
  });
};

/**
 * Counts the HTTP calls in flight to one host, sampled every few milliseconds: the concurrency a process
 * really keeps against a service, for a limit measured at the same concurrency.
 */
export const watchConcurrency = (host: string, everyMs = 5) => {
  let inFlight = 0;
  let samples = 0;
  let total = 0;
  const counted = new WeakSet<object>();
  subscribe('http.client.request.start', (message) => {
    const request = (message as { request?: ClientRequest }).request;
    if (request && String(request.getHeader('host')) === host) {
      counted.add(request);
      inFlight++;
    }
  });
  subscribe('http.client.response.finish', (message) => {
    const request = (message as { request?: ClientRequest }).request;
    if (request && counted.has(request)) inFlight--;
  });
  const timer = setInterval(() => {
    samples++;
    total += inFlight;
  }, everyMs);
  timer.unref();
  return {
    /** Average calls in flight since `reset`. */
    average: () => (samples > 0 ? total / samples : 0),
    reset: () => {
      samples = 0;
      total = 0;
    },
    stop: () => clearInterval(timer),
  };
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

export interface InvocationTime {
  readonly wallMs: number;
  /** The runners' own work, their calls included. */
  readonly runnerMs: number;
  /** Waiting on the framework's own service calls. */
  readonly waitMs: number;
  /** The rest: the framework's computing. */
  readonly computeMs: number;
  /** The framework's time with its waits at AWS's latency instead of the local stand-ins'. */
  readonly projectedMs: number;
}

/**
 * Splits an invocation's time. The framework's waits are projected to AWS by the ratio of AWS's latency
 * to the latency its calls had here: the same calls, in the same order, answered as fast as AWS answers.
 */
export const invocationTime = (ledger: InvocationLedger, from: number, to: number, awsLatencyMs: (host: string) => number): InvocationTime => {
  const wallMs = to - from;
  const runnerMs = coveredMs(ledger.runnerIntervals, from, to);
  const inRunner = (call: ServiceCall) => ledger.runnerIntervals.some(([start, end]) => call.start >= start && call.start < end);
  const calls = ledger.calls.filter((call) => !inRunner(call));
  const waitMs = coveredMs(
    calls.map((call): [number, number] => [call.start, call.end]),
    from,
    to,
  );
  const computeMs = Math.max(0, wallMs - runnerMs - waitMs);
  const localCallMs = calls.reduce((total, call) => total + (call.end - call.start), 0);
  const awsCallMs = calls.reduce((total, call) => total + awsLatencyMs(call.host), 0);
  const projectedMs = computeMs + (localCallMs > 0 ? waitMs * (awsCallMs / localCallMs) : 0);
  return { wallMs, runnerMs, waitMs, computeMs, projectedMs };
};
