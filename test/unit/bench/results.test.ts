import { describe, expect, it } from 'vitest';
import type { PipelineResult } from '../../../bench/pipeline-protocol';
import { type MeteredRun, fastestRun, localLimitExecutionsPerSecond, runFigures, systemMonthlyUsd } from '../../../bench/results';
import { prices } from '../../../bench/prices';
import type { UsageLine } from '../../../bench/wire-meter';

const line = (operation: string, kind: string, tally: Partial<UsageLine>): UsageLine => ({
  operation,
  kind,
  requests: 0,
  units: 0,
  items: 0,
  failed: 0,
  empty: 0,
  ms: 0,
  ...tally,
});
const usage = (invocations: number, gbSeconds: number) => ({ invocations, billedMs: 0, gbSeconds, localMs: 0, waitMs: 0, computeMs: 0 });

describe('Function: localLimitExecutionsPerSecond', () => {
  it('adds the time per execution of two conditional updates and one queue cycle', () => {
    // 200 updates/s → 10 ms per execution; 200 cycles/s → 5 ms: 15 ms per execution
    expect(localLimitExecutionsPerSecond({ conditionalUpdatesPerSecond: 200, queueCyclesPerSecond: 200 })).toBeCloseTo(1000 / 15);
  });
});

describe('Function: fastestRun', () => {
  it('takes the run with the higher steady rate, whichever came first', () => {
    // 100 executions, one per 10 ms (100/s), and one per 20 ms (50/s)
    const run = (gapMs: number) => ({ completions: Array.from({ length: 100 }, (_, i) => ({ at: i * gapMs, count: 1 })) }) as unknown as PipelineResult;
    const slow = run(20);
    const fast = run(10);

    expect(fastestRun([slow, fast])).toEqual({ run: fast, executionsPerSecond: expect.closeTo(100, 0) });
    expect(fastestRun([fast, slow]).run).toBe(fast);
    expect(() => fastestRun([])).toThrow('no throughput run');
  });
});

describe('Function: runFigures', () => {
  it("counts the framework's units per execution, leaving out the runners' outputs, idle probes, system runs and empty receives", () => {
    // Prepare
    const pipeline = {
      executions: 10,
      functions: { worker: usage(10, 0.2), dispatching: usage(1, 0.1), idleDispatch: usage(50, 5), deadLetter: usage(0, 0), system: usage(5, 1) },
      chainLatenciesMs: [10, 20, 30],
      logBytes: 1000,
      emfBytes: 500,
    } as unknown as PipelineResult;
    const dynamodb = [
      line('UpdateItem', 'transient', { units: 22 }),
      line('TransactWriteItems', 'transaction', { units: 6 }),
      line('PutItem', 'output', { units: 10 }),
      line('GetItem', 'output', { units: 14 }),
      line('Query', 'ready', { units: 2 }),
      line('Query', 'ready (empty)', { units: 40 }),
      line('PutItem', 'system', { units: 5 }),
      line('BatchGetItem', 'counts', { units: 40 }),
      line('UpdateItem', 'counts', { units: 3 }),
    ];
    const sqs = [line('SendMessageBatch', 'q', { units: 10 }), line('ReceiveMessage', 'q', { units: 30, empty: 20 })];

    // Act
    const figures = runFigures({ pipeline, dynamodb, sqs });

    // Assess
    expect(figures.wruPerExecution).toBeCloseTo(3.1);
    expect(figures.rruPerExecution).toBeCloseTo(0.2);
    expect(figures.scienceWruPerExecution).toBeCloseTo(1);
    expect(figures.scienceRruPerExecution).toBeCloseTo(1.4);
    expect(figures.sqsRequestsPerExecution).toBeCloseTo(2);
    expect(figures.emptyReceivesPerExecution).toBeCloseTo(2);
    expect(figures.usage.lambda).toEqual({ invocations: 11, gbSeconds: expect.closeTo(0.3) });
    expect(figures.latencyP50Ms).toBe(20);
    expect(figures.logBytesPerExecution).toBe(150);
  });
});

describe('Function: systemMonthlyUsd', () => {
  it("prices the system runners' average run, its units and its Lambda use, at their runs a month", () => {
    // Prepare: two runs, each a lock written and deleted (2 write units), 8 counters read, 0.01 GB-s
    const run = {
      pipeline: { functions: { system: usage(2, 0.02) } },
      dynamodb: [line('PutItem', 'system', { units: 2 }), line('DeleteItem', 'system', { units: 2 }), line('BatchGetItem', 'counts', { units: 16 }), line('UpdateItem', 'transient', { units: 99 })],
      sqs: [],
    } as unknown as MeteredRun;
    const perRun =
      (2 * prices.dynamodb.usdPerMillionWriteUnits + 8 * prices.dynamodb.usdPerMillionReadUnits + prices.lambda.usdPerMillionRequests) * 1e-6 +
      0.01 * prices.lambda.usdPerGbSecond;

    // Act
    const monthly = systemMonthlyUsd(run, 43_200);

    // Assess
    expect(monthly).toBeCloseTo(43_200 * perRun, 10);
  });

  it('is nothing when no system runner ran', () => {
    const run = { pipeline: { functions: { system: usage(0, 0) } }, dynamodb: [], sqs: [] } as unknown as MeteredRun;
    expect(systemMonthlyUsd(run, 43_200)).toBe(0);
  });
});
