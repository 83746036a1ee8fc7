/**
 * Python runners under the chaos suite's faults: the same fault plan the TypeScript runners meet (a run that
 * raises or returns what is not a status, the identical SQS record handed to two invocations, a batch handed over
 * again, duplicate and failed sends, lost responses, throttling, conflicting transactions, an operator's reprocess
 * mid-run), with the runs of their functions journalled, and every invariant of the journal kept: no run twice at
 * once, no stale result recorded, readiness never lost, counters true, everything settled.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Fault, type FaultPlanSpec } from '../../lib/chaos/plan';
import { runUnderChaos } from '../../lib/local/chaos-run';
import type { LocalRuntime } from '../../lib/local/runtime';
import { describePythonRunners } from '../../lib/python/declarations';
import { PythonTransientRunner } from '../../lib/runner';
import { sampleTransient } from '../helpers/factories';
import { fixturesWithTasks, startTestRuntime } from '../helpers/local-stack';

// A diamond in Python: A, then B and C side by side, then D once both are done.
const dir = mkdtempSync(join(tmpdir(), 'python-chaos-'));
const file = join(dir, 'diamond.py');
const runnerClass = (name: string, prerequisites: readonly string[]) => `
class ${name}(TransientTaskRunner):
    task_name = "${name}"
    max_receive_count = 3

    def _prerequisites(self):
        return {${[...prerequisites.map((task) => `"${task}": "processed"`), `"${name}": "not processed"`].join(', ')}}

    def _run_process(self, transient):
        time.sleep(0.05 + (hash((transient.name, "${name}")) % 100) / 1000)
        return "processed"
`;
writeFileSync(
  file,
  ['import time', 'from blast_tasks import TransientTaskRunner', runnerClass('A', []), runnerClass('B', ['A']), runnerClass('C', ['A']), runnerClass('D', ['B', 'C'])].join('\n'),
);

const PLAN: Omit<FaultPlanSpec, 'journal'> = {
  seed: 20261203,
  faults: {
    [Fault.RunnerThrows]: 0.2,
    [Fault.InvalidStatus]: 0.05,
    [Fault.DuplicateInvocation]: 0.3,
    [Fault.RepeatedBatch]: 0.1,
    [Fault.DuplicateSend]: 0.3,
    [Fault.PartialSendFailure]: 0.2,
    [Fault.LostResponse]: 0.05,
    [Fault.Throttle]: 0.05,
    [Fault.TransactionConflict]: 0.2,
  },
};

describe('Chaos: Python runners keep the invariants', () => {
  let runtime: LocalRuntime | undefined;
  afterAll(() => runtime?.stop());

  it('settles every transient through a diamond of Python runners under the fault plan, with no invariant broken', async () => {
    // Prepare
    const runners = describePythonRunners([file]).map((declared) => new PythonTransientRunner(declared));
    expect(runners.map((runner) => runner.taskName)).toEqual(['A', 'B', 'C', 'D']);
    const spec: FaultPlanSpec = { ...PLAN, journal: join(dir, 'journal.jsonl') };
    runtime = await startTestRuntime(runners, { fixturesDir: fixturesWithTasks(['A', 'B', 'C', 'D']), retryBaseSeconds: 1, tickMs: 1_000, chaos: spec, onPythonOutput: () => undefined });
    runtime.run();

    // Act
    const report = await runUnderChaos(runtime, {
      transients: ['py1', 'py2', 'py3', 'py4'].map((name) => sampleTransient(name)),
      operator: { reprocess: 0.2, retrigger: 0.2, delete: 0 },
      poison: true,
      timeoutMs: 150_000,
    });

    // Assess: the faults happened to the Python runs, and nothing broke
    const injected = new Set(report.events.flatMap((event) => (event.type === 'fault' ? [event.fault] : [])));
    expect([...injected]).toEqual(expect.arrayContaining([Fault.RunnerThrows, Fault.DuplicateInvocation]));
    const runs = report.events.filter((event) => event.type === 'run-start');
    expect(runs.length).toBeGreaterThanOrEqual(16);
    expect(report.settled).toBe(true);
    expect(report.violations).toEqual([]);
    // A run that raised on every delivery ends in its failed status (its successors blocked), as a TypeScript
    // runner's does; the others run the diamond to its end.
    expect(report.records.some((record) => record.registers.D?.status === 'processed')).toBe(true);
  }, 200_000);
});
