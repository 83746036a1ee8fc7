import { describe, expect, it } from 'vitest';
import {
  ProcessingStatus,
  blockedTasks,
  isReady,
  newlyReady,
  processingStatus,
  progressPercent,
  readyTasks,
} from '../../lib/domain/workflow';
import { diamondRunners, registers, workflowOf } from '../helpers/factories';

const workflow = workflowOf(diamondRunners());
const specOf = (task: string) => {
  const spec = workflow.specs.get(task);
  if (!spec) throw new Error(task);
  return spec;
};

describe('Function: isReady', () => {
  it.each([
    [{}, 'A', true],
    [{ A: 'processing' }, 'A', false],
    [{ A: 'processed' }, 'A', false],
    [{ A: 'processed' }, 'B', true],
    [{ A: 'processed', B: 'processing' }, 'B', false],
    [{ A: 'failed' }, 'B', false],
    [{ A: 'processed', B: 'processed', C: 'not processed' }, 'D', false],
    [{ A: 'processed', B: 'processed', C: 'processed' }, 'D', true],
    [{ A: 'processed', B: 'processed', C: 'processed', D: 'processed' }, 'D', false],
  ])('with registers %j, %s ready is %s', (statuses, task, expected) => {
    expect(isReady(specOf(task), registers(statuses))).toBe(expected);
  });

  it('reads a missing register as "not processed" (tasks added later need no migration)', () => {
    expect(isReady(specOf('A'), {})).toBe(true);
    expect(readyTasks(workflow, registers({ A: 'processed' }))).toEqual(['B', 'C']);
  });
});

describe('Function: newlyReady', () => {
  it('announces both branches when their common prerequisite finishes', () => {
    expect(newlyReady(workflow, registers({ A: 'processing' }), registers({ A: 'processed' }), ['A'])).toEqual(['B', 'C']);
  });

  it('announces the join exactly when the second sibling finishes, from the post-image', () => {
    const before = registers({ A: 'processed', B: 'processed', C: 'processing' });
    const after = registers({ A: 'processed', B: 'processed', C: 'processed' });
    expect(newlyReady(workflow, before, after, ['C'])).toEqual(['D']);
    expect(newlyReady(workflow, registers({ A: 'processed', B: 'processing', C: 'processing' }), registers({ A: 'processed', B: 'processed', C: 'processing' }), ['B'])).toEqual([]);
  });

  it('does not announce a task that was already ready', () => {
    expect(newlyReady(workflow, registers({}), registers({}), ['A'])).toEqual([]);
  });
});

describe('Function: blockedTasks', () => {
  it('blocks the unprocessed tasks downstream of an error, naming the failed task', () => {
    const blocked = blockedTasks(workflow, registers({ A: 'processed', B: 'failed', C: 'processed' }));
    expect([...blocked]).toEqual([['D', ['B']]]);
  });

  it('blocks transitively', () => {
    const blocked = blockedTasks(workflow, registers({ A: 'no GHOST match' }));
    expect([...blocked]).toEqual([
      ['B', ['A']],
      ['C', ['A']],
      ['D', ['A']],
    ]);
  });

  it('does not block a task whose prerequisite is still running', () => {
    expect(blockedTasks(workflow, registers({ A: 'processing' })).size).toBe(0);
  });
});

describe("Blast's progress and processing status", () => {
  it.each([
    ['a fresh transient', {}, 0, ProcessingStatus.Processing],
    ['one task running (Blast counts it as done)', { A: 'processing' }, 25, ProcessingStatus.Processing],
    ['half done', { A: 'processed', B: 'processed' }, 50, ProcessingStatus.Processing],
    ['every task processed', { A: 'processed', B: 'processed', C: 'processed', D: 'processed' }, 100, ProcessingStatus.Completed],
    ['a branch failed, the other still to run', { A: 'processed', B: 'failed' }, 75, ProcessingStatus.Processing],
    ['a branch failed and nothing else can run', { A: 'processed', B: 'failed', C: 'processed' }, 100, ProcessingStatus.Blocked],
    ['the first task failed', { A: 'no GHOST match' }, 100, ProcessingStatus.Blocked],
    ['the last task failed', { A: 'processed', B: 'processed', C: 'processed', D: 'failed' }, 100, ProcessingStatus.Blocked],
  ])('%s: %i%%, %s', (_case, statuses, progress, status) => {
    const state = registers(statuses);
    expect(progressPercent(workflow, state)).toBe(progress);
    expect(processingStatus(workflow, state)).toBe(status);
  });
});
