/**
 * Who may write and read the runs' artifacts, derived from the registry (lib/domain/declaration.ts artifactUseOf):
 * the stack grants exactly this, so a task neither declaring artifacts nor waiting on one that does gets none.
 */
import { describe, expect, it } from 'vitest';
import { artifactUseOf } from '../../lib/domain/declaration';
import { runner, workflowOf } from '../helpers/factories';

// A → B → C, and D on its own; B declares usesArtifacts.
const runners = [
  runner('A', {}),
  runner('B', { A: 'processed' }, { settings: { usesArtifacts: true } }),
  runner('C', { B: 'processed' }),
  runner('D', {}),
];
const workflow = workflowOf(runners);

describe('artifactUseOf', () => {
  it.each([
    ['A', { writes: false, reads: false }, 'comes before the task that writes'],
    ['B', { writes: true, reads: true }, 'declares usesArtifacts'],
    ['C', { writes: false, reads: true }, 'waits on a task that writes'],
    ['D', { writes: false, reads: false }, 'is unrelated to it'],
  ])('task %s: %o (it %s)', (task, expected) => {
    expect(artifactUseOf(workflow, runners, task)).toEqual(expected);
  });
});
