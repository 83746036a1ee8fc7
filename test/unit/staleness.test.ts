import { describe, expect, it } from 'vitest';
import { type RunInputs, StaleKind, currentTasks, fingerprintOf, inputTasks, runInputs, staleTasks } from '../../lib/domain/staleness';
import type { Register, Registers } from '../../lib/domain/workflow';
import { runner, sampleTransient, workflowOf } from '../helpers/factories';

// A → B → D, A → C → D, and E, which only waits for A to be "not processed" (it never reads A's result).
const runnersAt = (versions: Record<string, string>) => [
  runner('A', {}, { settings: { version: versions.A ?? '1', usesTransientFields: ['coordinates'] } }),
  runner('B', { A: 'processed' }, { settings: { version: versions.B ?? '1', usesTransientFields: ['coordinates'] } }),
  runner('C', { A: 'processed' }, { settings: { version: versions.C ?? '1', usesTransientFields: ['redshift'] } }),
  runner('D', { B: 'processed', C: 'processed' }, { settings: { version: versions.D ?? '1', usesTransientFields: ['coordinates'] } }),
  runner('E', { A: 'not processed' }, { settings: { version: versions.E ?? '1', usesTransientFields: ['coordinates'] } }),
];
const transient = sampleTransient('sn', { redshift: 0.1 });

/** Every task run once in workflow order, at versions 1: the registers, and the inputs each run recorded, as the worker records them. */
const ranAll = (): { registers: Registers; inputs: Map<string, RunInputs> } => {
  const workflow = workflowOf(runnersAt({}));
  const current = currentTasks(runnersAt({}));
  let registers: Registers = {};
  const inputs = new Map<string, RunInputs>();
  let clock = 1_000;
  for (const task of ['E', 'A', 'B', 'C', 'D']) {
    inputs.set(task, runInputs(workflow, current.get(task), transient, registers, task));
    clock += 1_000;
    const register: Register = { status: 'processed', claim: `${task}.1`, lastModified: clock, processingSeconds: 0.5, version: '1' };
    registers = { ...registers, [task]: register };
  }
  return { registers, inputs };
};

describe('Function: staleTasks', () => {
  it('finds nothing stale when every result ran with the current versions and inputs', () => {
    const runners = runnersAt({});
    expect(staleTasks(workflowOf(runners), currentTasks(runners), { transient, registers: ranAll().registers }).size).toBe(0);
    expect(staleTasks(workflowOf(runners), currentTasks(runners), { transient, registers: ranAll().registers }, ranAll().inputs).size).toBe(0);
  });

  it.each([
    ['A', ['A', 'B', 'C', 'D']],
    ['B', ['B', 'D']],
    ['C', ['C', 'D']],
    ['D', ['D']],
    ['E', ['E']],
  ])('makes %s stale when its version changes, with exactly the tasks downstream that used its result: %j', (task, expected) => {
    const runners = runnersAt({ [task]: '2' });
    const stale = staleTasks(workflowOf(runners), currentTasks(runners), { transient, registers: ranAll().registers }, ranAll().inputs);
    expect([...stale.keys()]).toEqual(expected);
    expect(stale.get(task)).toEqual([{ kind: StaleKind.Version, message: 'version changed from 1 to 2' }]);
  });

  it('says which upstream is stale', () => {
    const runners = runnersAt({ B: '2' });
    const stale = staleTasks(workflowOf(runners), currentTasks(runners), { transient, registers: ranAll().registers }, ranAll().inputs);
    expect(stale.get('D')).toEqual([{ kind: StaleKind.UpstreamStale, upstream: 'B', message: 'upstream B is stale' }]);
  });

  it('makes a result stale when an upstream result it used was superseded by a later run', () => {
    const runners = runnersAt({});
    const before = ranAll();
    const registers = { ...before.registers, C: { ...before.registers.C, claim: 'C.2', lastModified: 99_000 } as Register };
    const stale = staleTasks(workflowOf(runners), currentTasks(runners), { transient, registers }, before.inputs);
    expect(stale.get('D')).toEqual([{ kind: StaleKind.UpstreamRerun, upstream: 'C', message: 'upstream C was re-run (run C.1 superseded by C.2)' }]);
    expect([...stale.keys()]).toEqual(['D']);
  });

  it("makes a result stale when the transient data its runner reads changed, and only that runner's", () => {
    const runners = runnersAt({});
    const { registers, inputs } = ranAll();
    const stale = staleTasks(workflowOf(runners), currentTasks(runners), { transient: { ...transient, redshift: 0.2 }, registers }, inputs);
    // C reads the redshift; A, B, D and E read the coordinates, which did not change. D used C's result.
    expect([...stale.keys()]).toEqual(['C', 'D']);
    expect(stale.get('C')).toEqual([{ kind: StaleKind.Inputs, message: "the transient's redshift changed since it ran" }]);
  });

  it('leaves results recorded without a version, and unfinished tasks, alone', () => {
    const runners = runnersAt({ A: '2' });
    const registers: Registers = { A: { status: 'processed', claim: 'A.1' }, B: { status: 'processing', version: '1' } };
    expect(staleTasks(workflowOf(runners), currentTasks(runners), { transient, registers }).size).toBe(0);
  });

  it('fingerprints inputs whatever the order of their keys, and tells different runs apart', () => {
    const inputs: RunInputs = { fields: { raDeg: 1, decDeg: 2 }, upstream: { A: { run: 'A.1', version: '1' }, B: { run: 'B.1' } } };
    const reordered: RunInputs = { fields: { decDeg: 2, raDeg: 1 }, upstream: { B: { run: 'B.1' }, A: { run: 'A.1', version: '1' } } };
    expect(fingerprintOf(reordered)).toBe(fingerprintOf(inputs));
    expect(fingerprintOf({ ...inputs, upstream: { ...inputs.upstream, B: { run: 'B.2' } } })).not.toBe(fingerprintOf(inputs));
  });

  it('counts as inputs only the tasks waited on for a result, directly or further up', () => {
    const workflow = workflowOf(runnersAt({}));
    expect(inputTasks(workflow, 'D')).toEqual(['A', 'B', 'C']);
    expect(inputTasks(workflow, 'E')).toEqual([]);
  });
});
