import { describe, expect, it } from 'vitest';
import { registry } from '../../runners/registry';
import {
  affectedTasks,
  changedFields,
  fieldsUsedByTask,
  resetRegisters,
  sameTransientData,
  tasksReadyAfterRevision,
  withDescendants,
} from '../../lib/domain/revision';
import { validateRegistry } from '../../lib/domain/validation';
import { newlyReady } from '../../lib/domain/workflow';
import { loadCatalog } from '../../lib/fixtures/load-catalog';
import { TaskName } from '../../lib/generated/fixtures';
import { TransientField } from '../../lib/runner';
import { diamondRunners, registers, runner, sampleTransient, workflowOf } from '../helpers/factories';

const { workflow } = validateRegistry(loadCatalog('fixtures'), registry);
const fieldsUsed = fieldsUsedByTask(registry);

describe('Function: changedFields', () => {
  const stored = sampleTransient('2010H', { redshift: 0.015 });

  it.each([
    ['nothing', {}, []],
    ['the redshift', { redshift: 0.02 }, [TransientField.Redshift]],
    ['a redshift withdrawn', { redshift: undefined }, [TransientField.Redshift]],
    ['the declination', { decDeg: 1.04 }, [TransientField.Coordinates]],
    ['both', { raDeg: 121.7, redshift: 0.03 }, [TransientField.Coordinates, TransientField.Redshift]],
    ['only the classification', { spectroscopicClass: 'SN II' }, []],
  ])('sees %s changed', (_case, changes, expected) => {
    expect(changedFields(stored, { ...stored, ...changes })).toEqual(expected);
  });
});

describe('Function: sameTransientData', () => {
  const stored = sampleTransient('2010H', { redshift: 0.015, spectroscopicClass: 'SN Ia' });

  it('treats the same instant written differently as the same data', () => {
    expect(sameTransientData(stored, { ...stored, publicTimestamp: '2010-01-16T00:00:00Z' })).toBe(true);
  });

  it.each([['publicTimestamp', '2010-01-17T00:00:00Z'], ['spectroscopicClass', 'SN II'], ['redshift', 0.016]])('notices a new %s', (field, value) => {
    expect(sameTransientData(stored, { ...stored, [field]: value })).toBe(false);
  });
});

describe('Function: affectedTasks', () => {
  it('resets everything when the coordinates change, since the first tasks read them', () => {
    expect(affectedTasks(workflow, fieldsUsed, [TransientField.Coordinates])).toEqual(workflow.order);
  });

  it('resets Host information and every task after it when the redshift changes, and none of the tasks before it', () => {
    // Act
    const reset = affectedTasks(workflow, fieldsUsed, [TransientField.Redshift]);

    // Assess: stated on the registry's workflow, so that a runner added to it changes no expectation here
    expect(reset).toEqual(expect.arrayContaining(withDescendants(workflow, [TaskName.HostInformation])));
    for (const task of [TaskName.CutoutDownload, TaskName.TransientMWEBV, TaskName.HostMatch]) expect(reset).not.toContain(task);
    const readsRedshift = (task: string) => fieldsUsed.get(task)?.includes(TransientField.Redshift) === true;
    for (const task of reset) {
      const upstream = Object.keys(workflow.specs.get(task)?.prerequisites ?? {}).filter((on) => on !== task);
      expect(readsRedshift(task) || upstream.some((on) => reset.includes(on)), task).toBe(true);
    }
  });

  it('resets nothing for a change no runner reads', () => {
    expect(affectedTasks(workflow, fieldsUsed, [])).toEqual([]);
  });

  it('takes a runner that declares nothing to read both fields', () => {
    expect(fieldsUsedByTask(diamondRunners()).get('B')).toEqual([TransientField.Coordinates, TransientField.Redshift]);
  });
});

describe('Function: withDescendants', () => {
  it('follows a diamond to its join', () => {
    expect(withDescendants(workflowOf(diamondRunners()), ['B'])).toEqual(['B', 'D']);
  });
});

describe('Function: resetRegisters', () => {
  it('sends settled and running tasks back to "not processed" and leaves waiting ones alone', () => {
    const current = registers({ A: 'processed', B: 'processing', C: 'not processed', D: 'failed' });
    expect(resetRegisters({ ...current, D: { status: 'failed', generation: 2 } }, ['A', 'B', 'C', 'D'], 42)).toEqual({
      A: { status: 'not processed', lastModified: 42, generation: 1 },
      B: { status: 'not processed', lastModified: 42, generation: 1 },
      // One generation on: a message sent for the run before the reset can no longer claim the task.
      D: { status: 'not processed', lastModified: 42, generation: 3 },
    });
  });
});

describe('Function: tasksReadyAfterRevision', () => {
  it('names the first task (coordinates) and Host information (redshift): the roots of what a revision resets', () => {
    // Act
    const ready = tasksReadyAfterRevision(workflow, fieldsUsed);

    // Assess: a runner added to the registry may add its own (a task that reads the redshift below Cutout download)
    expect(ready).toEqual(expect.arrayContaining([TaskName.CutoutDownload, TaskName.HostInformation]));
    for (const task of [TaskName.TransientMWEBV, TaskName.HostMatch, TaskName.HostMWEBV]) expect(ready).not.toContain(task);
  });

  it('covers every task a revision can make ready, whatever the registers were', () => {
    // Prepare: every task settled, each field changed in turn
    const settled = registers(Object.fromEntries(workflow.order.map((task) => [task, 'processed'])));
    const possible = new Set(tasksReadyAfterRevision(workflow, fieldsUsed));

    for (const field of [TransientField.Coordinates, TransientField.Redshift]) {
      // Act
      const after = { ...settled, ...resetRegisters(settled, affectedTasks(workflow, fieldsUsed, [field]), 1) };
      const ready = newlyReady(workflow, settled, after, Object.keys(after));

      // Assess
      expect(ready.length).toBeGreaterThan(0);
      for (const task of ready) expect(possible).toContain(task);
    }
  });

  it('includes a task that waits for a reset task to be "not processed"', () => {
    // Prepare: C runs while B has not; a redshift change resets B (and C, which depends on it)
    const runners = [
      runner('A', {}, { settings: { usesTransientFields: [TransientField.Coordinates] } }),
      runner('B', { A: 'processed' }, { settings: { usesTransientFields: [TransientField.Redshift] } }),
      runner('C', { A: 'processed', B: 'not processed' }, { settings: { usesTransientFields: [] } }),
    ];
    // Act + Assess
    expect(tasksReadyAfterRevision(workflowOf(runners), fieldsUsedByTask(runners))).toEqual(['A', 'B', 'C']);
  });

  it('makes nothing ready when no runner reads the transient data', () => {
    const runners = [runner('A', {}, { settings: { usesTransientFields: [] } })];
    expect(tasksReadyAfterRevision(workflowOf(runners), fieldsUsedByTask(runners))).toEqual([]);
  });
});
