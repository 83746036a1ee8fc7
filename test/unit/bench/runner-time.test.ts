import { describe, expect, it } from 'vitest';
import { coveredMs, invocationLedger, invocationTime, timedRunners } from '../../../bench/runner-time';
import { TransientTaskRunner, isTransientRunner } from '../../../lib/runner';
import { runner } from '../../helpers/factories';
import { sampleTransient } from '../../helpers/factories';

describe('Function: coveredMs', () => {
  it('counts overlapping runs once, and only within the invocation', () => {
    expect(
      coveredMs(
        [
          [0, 10],
          [5, 15],
          [20, 30],
          [95, 120],
        ],
        2,
        100,
      ),
    ).toBe(13 + 10 + 5);
  });
});

describe('Function: timedRunners', () => {
  it("records each process() call in the current invocation's ledger and keeps the runner's declarations", async () => {
    // Prepare
    const [timed] = timedRunners([runner('A', { A: 'not processed' }, { process: async () => 'processed', settings: { batchSize: 3 } })]);
    if (!timed || !isTransientRunner(timed)) throw new Error('expected a transient runner');
    const ledger = { runnerIntervals: [] as [number, number][], calls: [] };

    // Act
    const status = await invocationLedger().run(ledger, () => timed.process(sampleTransient(), {} as never));

    // Assess
    expect(status).toBe('processed');
    expect(timed).toBeInstanceOf(TransientTaskRunner);
    expect(timed).toMatchObject({ taskName: 'A', batchSize: 3, prerequisites: { A: 'not processed' } });
    expect(ledger.runnerIntervals).toHaveLength(1);
    expect(ledger.runnerIntervals[0]?.[1]).toBeGreaterThanOrEqual(ledger.runnerIntervals[0]?.[0] ?? Infinity);
  });
});

describe('Function: invocationTime', () => {
  it("leaves out the runners' work and projects the framework's waits to AWS latency", () => {
    // Prepare: 0–100 ms; a claim 0–30 (local 30 ms), the runner 30–60 with a call of its own, a completion 60–80
    const ledger = {
      runnerIntervals: [[30, 60]] as [number, number][],
      calls: [
        { host: 'db', start: 0, end: 30 },
        { host: 'db', start: 35, end: 50 },
        { host: 'db', start: 60, end: 80 },
      ],
    };

    // Act: AWS answers in 10 ms where the claim and completion took 50 ms together here
    const time = invocationTime(ledger, 0, 100, () => 10);

    // Assess
    expect(time).toEqual({ wallMs: 100, runnerMs: 30, waitMs: 50, computeMs: 20, projectedMs: 20 + 20 });
  });
});
