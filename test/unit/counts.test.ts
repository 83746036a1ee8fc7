import { describe, expect, it } from 'vitest';
import { CountBucket, addMove, bucketOf, anyTaskFinished, nonZero, toCounts } from '../../lib/domain/counts';
import { ProcessingStatus } from '../../lib/domain/workflow';
import { diamondRunners, registers, workflowOf } from '../helpers/factories';

const workflow = workflowOf(diamondRunners());

describe('Function: bucketOf', () => {
  it.each([
    ['nothing finished', ProcessingStatus.Processing, { A: 'not processed' }, CountBucket.Waiting],
    ['the first task running', ProcessingStatus.Processing, { A: 'processing' }, CountBucket.Waiting],
    ['the first task finished', ProcessingStatus.Processing, { A: 'processed', B: 'processing' }, CountBucket.Processing],
    ['an error and work left', ProcessingStatus.Processing, { A: 'processed', B: 'failed' }, CountBucket.Processing],
    ['blocked', ProcessingStatus.Blocked, { A: 'failed' }, CountBucket.Blocked],
    ['completed', ProcessingStatus.Completed, { A: 'processed', B: 'processed', C: 'processed', D: 'processed' }, CountBucket.Completed],
  ])('puts a transient with %s in its bucket', (_case, status, statuses, bucket) => {
    expect(bucketOf(workflow, status, registers(statuses))).toBe(bucket);
  });
});

describe('Function: anyTaskFinished', () => {
  it.each([
    ['a success', { A: 'processed' }, true],
    ['an error', { A: 'time limit exceeded' }, true],
    ['only a run in progress', { A: 'processing' }, false],
    ['nothing', {}, false],
  ])('says a transient with %s has started or not', (_case, statuses, started) => {
    expect(anyTaskFinished(workflow, registers(statuses))).toBe(started);
  });
});

describe('Function: addMove', () => {
  it('moves one unit between buckets and nets out moves that cancel', () => {
    const first = addMove({}, CountBucket.Waiting, CountBucket.Processing);
    expect(first).toEqual({ waiting: -1, processing: 1 });
    expect(nonZero(addMove(first, CountBucket.Processing, CountBucket.Completed))).toEqual({ waiting: -1, completed: 1 });
    expect(addMove(first, CountBucket.Blocked, CountBucket.Blocked)).toBe(first);
  });

  it('sums the buckets into a total', () => {
    expect(toCounts({ waiting: 2, completed: 3 })).toEqual({ waiting: 2, processing: 0, blocked: 0, completed: 3, total: 5 });
  });
});
