import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../lib/cli/inspect';
import { renderTable } from '../../lib/cli/render';
import { describeReset } from '../../lib/cli/reset';
import { ProcessingStatus, type Registers } from '../../lib/domain/workflow';
import type { TransientRecord } from '../../lib/engine/store';
import { diamondRunners, sampleTransient, workflowOf } from '../helpers/factories';

const workflow = workflowOf(diamondRunners());
const NOW = Date.UTC(2026, 4, 11, 14, 0, 0);
const recordOf = (registers: Registers): TransientRecord => ({
  transient: sampleTransient('2010H', { redshift: 0.0153, spectroscopicClass: 'SN Ia' }),
  registers,
  version: 3,
  processingStatus: ProcessingStatus.Processing,
  bucket: 'processing',
  createdAt: NOW - 60_000,
});
/** The note column of each task's row, by task. */
const notes = (lines: string[]) => {
  const header = lines.findIndex((line) => line.trim().startsWith('Task'));
  const column = lines[header]?.indexOf('Note') ?? -1;
  return Object.fromEntries(lines.slice(header + 1).map((line) => [line.trim().split(/\s{2,}/)[0], line.slice(column)]));
};

describe('Function: renderStatus', () => {
  it('says which run is in flight, which waits for a retry and which is ready', () => {
    const lines = renderStatus(
      workflow,
      recordOf({
        A: { status: 'processed', lastModified: NOW - 5_000, processingSeconds: 1.25, attempt: 1 },
        B: { status: 'processing', lastModified: NOW - 2_000, attempt: 2, claim: 'c.2', leaseUntil: NOW + 60_000 },
        C: { status: 'not processed', lastModified: NOW - 1_000, attempt: 1, lastError: 'Error: survey service unavailable' },
      }),
      NOW,
    );

    expect(lines[0]).toBe('2010H · public 2010-01-16T00:00:00.000Z · ra 121.6015 · dec 1.03586 · z 0.0153 · SN Ia');
    expect(lines[1]).toBe('progress 50% · processing');
    expect(lines[4]).toMatch(/^ {2}A +processed +2026-05-11T13:59:55Z +1\.25 s +1$/);
    expect(notes(lines)).toMatchObject({
      B: 'running since 2026-05-11T13:59:58Z',
      C: 'retrying after: Error: survey service unavailable',
    });
  });

  it('names a run whose lease ran out, a dead letter, and the failed prerequisite behind each blocked task', () => {
    const lines = renderStatus(
      workflow,
      recordOf({
        A: { status: 'processed' },
        B: { status: 'processing', lastModified: NOW - 120_000, claim: 'c.1', leaseUntil: NOW - 1_000 },
        C: { status: 'failed', attempt: 3, lastError: 'Error: C exploded', deadLettered: true },
      }),
      NOW,
    );

    expect(notes(lines)).toMatchObject({
      B: 'its run died (lease ran out 2026-05-11T13:59:59Z): SQS redelivers it, or retrigger',
      C: 'dead-lettered: Error: C exploded',
      D: 'blocked by C (failed)',
    });
    expect(lines[2]).toBe('1 task blocked behind C (failed)');
  });

  it('marks the tasks that are ready to run', () => {
    expect(notes(renderStatus(workflow, recordOf({ A: { status: 'processed' } }), NOW))).toMatchObject({ B: 'ready', C: 'ready', D: '' });
  });
});

describe('Function: renderTable', () => {
  it('pads every column but the last, aligns numbers right, and leaves no trailing spaces', () => {
    expect(renderTable(['Name', 'N', 'Note'], [['a', { text: '7', alignRight: true }, ''], ['long name', { text: '12', alignRight: true }, 'x']])).toEqual([
      '  Name       N   Note',
      '  a           7',
      '  long name  12  x',
    ]);
  });
});

describe('Function: describeReset', () => {
  const result = { name: 'sn', before: ProcessingStatus.Blocked, after: ProcessingStatus.Processing, reset: [], sent: [], unsent: [], waiting: [], inFlight: [] };

  it.each([
    ['retrigger', { before: ProcessingStatus.Completed }, 'sn is completed: nothing to retrigger (reprocess runs it again)'],
    ['retrigger', { before: ProcessingStatus.Processing, inFlight: ['B'] }, 'sn: nothing to retrigger; running now: B'],
    ['retrigger', { reset: [{ task: 'B', from: 'failed' }], sent: ['B'] }, 'retriggered sn: reset to "not processed": B (was failed); sent B'],
    ['retrigger', { sent: ['A'] }, 'retriggered sn: no task to reset; sent A'],
    [
      'reprocess',
      { reset: ['A', 'B', 'C', 'D'].map((task) => ({ task, from: 'processed' })), sent: ['A'], inFlight: ['C'] },
      'reprocessing sn: 4 tasks reset to "not processed"; sent A; the result of the run in flight for C will be discarded',
    ],
    [
      'retrigger',
      { reset: [{ task: 'B', from: 'failed' }], unsent: [{ task: 'B', error: new Error('connect ECONNREFUSED 127.0.0.1:4100') }] },
      'retriggered sn: reset to "not processed": B (was failed); not sent: B (connect ECONNREFUSED 127.0.0.1:4100), recorded as ready for the dispatcher\'s next run',
    ],
    ['retrigger', { waiting: ['C'] }, "retriggered sn: no task to reset; left to the dispatcher's next run: C"],
    ['reprocess', { reset: [{ task: 'A', from: 'processed' }] }, 'reprocessing sn: 1 task reset to "not processed"; nothing ready to send'],
  ] as const)('%s with %j says: %s', (operation, overrides, expected) => {
    expect(describeReset(operation, { ...result, ...overrides })).toBe(expected);
  });
});
