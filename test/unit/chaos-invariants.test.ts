import { describe, expect, it } from 'vitest';
import { type CounterState, type FinalState, Invariant, type Observation, checkInvariants, checkReadiness } from '../../lib/chaos/invariants';
import type { JournalEvent } from '../../lib/chaos/journal';
import { Fault, OperatorFault } from '../../lib/chaos/plan';
import { ProcessingStatus, type Registers } from '../../lib/domain/workflow';
import type { DeadLetterRecord, ReadyMarker, RunRecord, TransientRecord } from '../../lib/engine/store';
import { diamondRunners, registers, sampleTransient, workflowOf } from '../helpers/factories';

const workflow = workflowOf(diamondRunners());
const done = registers({ A: 'processed', B: 'processed', C: 'processed', D: 'processed' });

const transientRecord = (name: string, regs: Registers, status: ProcessingStatus = ProcessingStatus.Completed): TransientRecord => ({
  transient: sampleTransient(name),
  registers: regs,
  version: 10,
  processingStatus: status,
  bucket: status === ProcessingStatus.Completed ? 'completed' : status === ProcessingStatus.Blocked ? 'blocked' : 'processing',
  createdAt: 0,
});

/** A final state in which every named transient is completed and listed so. */
const state = (records: TransientRecord[], overrides: Partial<FinalState> = {}): FinalState => ({
  names: records.map((record) => record.transient.name),
  records,
  deadLetters: [],
  listed: new Map([
    [ProcessingStatus.Completed, new Set(records.filter((r) => r.processingStatus === ProcessingStatus.Completed).map((r) => r.transient.name))],
    [ProcessingStatus.Blocked, new Set(records.filter((r) => r.processingStatus === ProcessingStatus.Blocked).map((r) => r.transient.name))],
    [ProcessingStatus.Processing, new Set<string>()],
  ]),
  pendingMessages: 0,
  readyMarkers: 0,
  runs: [],
  ...overrides,
});

const run = (runId: string, start: number, end: number, task = 'A', transient = 'sn'): JournalEvent[] => [
  { type: 'run-start', transient, task, runId, at: start, deadline: start + 1_000 },
  { type: 'run-end', transient, task, runId, at: end },
];
const claim = (runId: string, version: number, task = 'A'): JournalEvent => ({ type: 'claim', transient: 'sn', task, runId, version, at: 0 });
const settle = (runId: string, version: number, status = 'processed', task = 'A'): JournalEvent => ({
  type: 'settle',
  transient: 'sn',
  task,
  runId,
  status,
  ok: true,
  version,
  at: 0,
});
const reset = (version: number, task = 'A'): JournalEvent => ({ type: 'write', transient: 'sn', statuses: { [task]: 'not processed' }, version, at: 0 });
const invariantsOf = (events: JournalEvent[], final: FinalState) => checkInvariants(workflow, events, final).map((violation) => violation.invariant);

describe('Function: checkInvariants', () => {
  it('finds nothing wrong in a sound history: a retry, a reset with its run in flight, a refused stale result', () => {
    // Prepare: r1 fails and waits, r2 runs; a reset drops r3's claim while it runs; r4 runs; r3's result is refused.
    const events: JournalEvent[] = [
      claim('r1', 1),
      ...run('r1', 0, 10),
      settle('r1', 2, 'not processed'),
      claim('r2', 3),
      ...run('r2', 100, 110),
      settle('r2', 4),
      reset(5),
      claim('r3', 6),
      ...run('r3', 200, 900),
      reset(7),
      claim('r4', 8),
      ...run('r4', 300, 310),
      settle('r4', 9),
      { type: 'settle', transient: 'sn', task: 'A', runId: 'r3', status: 'processed', ok: false, at: 900 },
    ];

    // Act
    const violations = checkInvariants(workflow, events, state([transientRecord('sn', done)]));

    // Assess
    expect(violations).toEqual([]);
  });

  it('reports two runs at once with no reset between their claims', () => {
    const events = [claim('r1', 1), claim('r2', 2), ...run('r1', 0, 500), ...run('r2', 100, 200)];
    expect(invariantsOf(events, state([transientRecord('sn', done)]))).toContain(Invariant.OneRunAtATime);
  });

  it('counts a run that outlived its deadline as over at the deadline', () => {
    // r1 ran on past its 1 s deadline (Lambda would have stopped it); r2 took over after the lease.
    const events = [claim('r1', 1), claim('r2', 2), ...run('r1', 0, 5_000), ...run('r2', 1_500, 1_600)];
    expect(invariantsOf(events, state([transientRecord('sn', done)]))).toEqual([]);
  });

  it('reports a completion recorded over a reset that came after its claim', () => {
    const events = [claim('r1', 1), reset(2), settle('r1', 3)];
    expect(invariantsOf(events, state([transientRecord('sn', done)]))).toEqual([Invariant.NoStaleCompletion]);
  });

  it('reports a task claimed again after it finished, with no reset in between', () => {
    const events = [claim('r1', 1), settle('r1', 2), claim('r2', 3), settle('r2', 4)];
    expect(invariantsOf(events, state([transientRecord('sn', done)]))).toEqual([Invariant.EffectivelyOnce]);
  });

  it.each([
    ['a status not in the fixtures', { ...done, D: { status: 'banana' } }],
    ['a register left "processing"', { ...done, D: { status: 'processing' } }],
  ])('reports %s', (_case, regs) => {
    const record = transientRecord('sn', regs, ProcessingStatus.Processing);
    expect(invariantsOf([], state([record]))).toContain(Invariant.FixtureStatuses);
  });

  it('reports a stored processing status, or an index entry, that disagrees with the registers', () => {
    const stale = transientRecord('sn', done, ProcessingStatus.Processing);
    const violations = checkInvariants(workflow, [], state([stale], { listed: new Map([[ProcessingStatus.Processing, new Set(['sn'])]]) }));
    expect(violations.map((violation) => violation.invariant)).toEqual([Invariant.StatusAgrees, Invariant.StatusAgrees, Invariant.StatusAgrees]);
    expect(violations.map((violation) => violation.detail)).toEqual([
      'stored processing status "processing", registers say "completed"',
      `stored in the counters' bucket "processing", registers say "completed"`,
      'the processing-status index lists it as "processing"; its registers say "completed"',
    ]);
  });

  it('reports lost work: a transient still processing, one missing, messages or markers left', () => {
    const waiting = transientRecord('waiting', registers({ A: 'processed' }), ProcessingStatus.Processing);
    const final = state([waiting], { names: ['waiting', 'vanished'], pendingMessages: 2, readyMarkers: 1 });
    expect(invariantsOf([], final).filter((invariant) => invariant === Invariant.NothingLost)).toHaveLength(4);
  });

  it('reports a settled attempt missing from the run history, or recorded there with another status', () => {
    // Prepare: A and B settled by their claims; B's attempt recorded as a retry; C's attempt not recorded; D dead-lettered
    const settled = {
      A: { status: 'processed', claim: 'a1', attempt: 1 },
      B: { status: 'processed', claim: 'b2', attempt: 2 },
      C: { status: 'processed', claim: 'c1', attempt: 1 },
      D: { status: 'failed', claim: 'd3', attempt: 3, deadLettered: true },
    };
    const attempt = (task: string, runId: string, status: string, attemptNo = 1): RunRecord => ({
      name: 'sn', task, run: runId, attempt: attemptNo, startedAt: 0, status, recorded: true, version: 'v1', fingerprint: 'f', inputs: { fields: {}, upstream: {} }, expiresAt: 0,
    });
    const runs = [attempt('A', 'a1', 'processed'), attempt('B', 'b1', 'not processed'), attempt('B', 'b2', 'not processed', 2), attempt('D', 'd3', 'not processed', 3)];

    // Act
    const violations = checkInvariants(workflow, [], state([transientRecord('sn', settled)], { runs }));

    // Assess (D's failure blocks the transient, which the other invariants report)
    expect(violations.filter((violation) => violation.invariant === Invariant.HistoryRecorded).map((violation) => [violation.invariant, violation.task, violation.detail])).toEqual([
      [Invariant.HistoryRecorded, 'B', 'attempt 2 (b2): the register says "processed", its history record "not processed"'],
      [Invariant.HistoryRecorded, 'C', 'attempt 1 (c1) settled "processed" but has no history record'],
    ]);
  });

  it('does not miss a transient the driver deleted', () => {
    const deleted: JournalEvent = { type: 'action', action: OperatorFault.Delete, transient: 'gone', at: 0 };
    expect(invariantsOf([deleted], state([], { names: ['gone'] }))).toEqual([]);
  });

  const letter = (body: unknown, reason: string): DeadLetterRecord => ({
    task: 'A',
    name: 'sn',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    reason,
    receiveCount: 3,
    messageId: 'm',
    at: 0,
  });
  const message = { transient: 'sn', task: 'A', readyAt: 1 };

  it.each([
    ['a recorded error status the register shows', letter(message, 'recorded "failed": boom'), { ...done, A: { status: 'failed', deadLettered: true } }, true],
    ['a recorded status the register does not show', letter(message, 'recorded "failed": boom'), done, false],
    ['nothing recorded over a finished task', letter(message, 'nothing recorded: the task was already "processed"'), done, true],
    ['an unreadable message kept with its reason', letter('{oops', 'message body is not JSON: {oops'), done, true],
    ['a message for an unknown task', letter({ ...message, task: 'Z' }, 'no transient runner is registered for task "Z"'), done, true],
  ])('dead letters: %s', (_case, deadLetter, regs, accounted) => {
    const record = transientRecord('sn', regs, regs === done ? ProcessingStatus.Completed : ProcessingStatus.Blocked);
    const violations = invariantsOf([], state([record], { deadLetters: [deadLetter] }));
    expect(violations.includes(Invariant.DeadLettersAccounted)).toBe(!accounted);
  });

  describe('counters', () => {
    const counts = (waiting: number, processing: number, blocked: number, completed: number) => ({ waiting, processing, blocked, completed });
    const move = (from: string | undefined, to: string | undefined): JournalEvent => ({ type: 'move', transient: 'sn', ...(from ? { from } : {}), ...(to ? { to } : {}), at: 0 });
    const count = (delta: Record<string, number>): JournalEvent => ({ type: 'count', delta, at: 0 });
    /** sn ingested, its first task finished, then completed: three moves, each counted. */
    const history = [move(undefined, 'waiting'), count({ waiting: 1 }), move('waiting', 'processing'), count({ waiting: -1, processing: 1 }), move('processing', 'completed'), count({ processing: -1, completed: 1 })];
    const state_ = (before: ReturnType<typeof counts>, overrides: Partial<CounterState> = {}): CounterState => ({
      before,
      counted: counts(0, 0, 0, 1),
      after: counts(0, 0, 0, 1),
      busy: 0,
      at: 1,
      ...overrides,
    });
    const kill: JournalEvent = { type: 'fault', fault: Fault.Kill, key: 'after transients.settle sn/D #1', attempt: 1, at: 0 };
    const check = (events: JournalEvent[], counters: CounterState) =>
      invariantsOf(events, state([transientRecord('sn', done)], { counters })).filter((invariant) => invariant === Invariant.CountersTrue);

    it('holds when every move was written once and counted once, and the recount agrees with the registers', () => {
      expect(check(history, state_(counts(0, 0, 0, 1)))).toEqual([]);
    });

    it('reports a move counted twice (an update that reached the counters twice), even where the counters agree with the updates', () => {
      expect(check([...history, count({ processing: -1, completed: 1 })], state_(counts(0, -1, 0, 2)))).not.toEqual([]);
    });

    it('reports counters that hold something other than the updates that reached them', () => {
      expect(check(history, state_(counts(0, 1, 0, 1)))).not.toEqual([]);
    });

    it('reports a bucket moved twice for one change', () => {
      expect(check([...history, move('processing', 'completed')], state_(counts(0, 0, 0, 1)))).not.toEqual([]);
    });

    it('allows a move left uncounted by a killed invocation, which the recount repairs; not two', () => {
      // The last move's update never reached the counters: one kill explains it.
      expect(check([...history.slice(0, 5), kill], state_(counts(0, 1, 0, 0)))).toEqual([]);
      // Two transients each lose a move, with one kill: two units of drift too many.
      const other = (event: JournalEvent): JournalEvent => (event.type === 'move' ? { ...event, transient: 'sn2' } : event);
      const twice = [...history.slice(0, 3), ...history.slice(0, 3).map(other), kill];
      const violations = checkInvariants(workflow, twice, state([transientRecord('sn', registers({ A: 'processed' }), ProcessingStatus.Processing), transientRecord('sn2', registers({ A: 'processed' }), ProcessingStatus.Processing)], {
        names: ['sn', 'sn2'],
        listed: new Map([[ProcessingStatus.Processing, new Set(['sn', 'sn2'])]]),
        counters: state_(counts(2, 0, 0, 0), { counted: counts(0, 2, 0, 0), after: counts(0, 2, 0, 0) }),
      }));
      expect(violations.filter((violation) => violation.invariant === Invariant.CountersTrue).map((violation) => violation.detail)).toEqual([
        expect.stringMatching(/^4 units of moves were never counted .* faults explain at most 2$/),
      ]);
    });

    it('reports a recount that does not match the registers, or leaves the counters wrong or busy', () => {
      expect(check(history, state_(counts(0, 0, 0, 1), { counted: counts(0, 1, 0, 0) }))).toHaveLength(1);
      expect(check(history, state_(counts(0, 0, 0, 1), { after: counts(0, 1, 0, 0) }))).toHaveLength(1);
      expect(check(history, state_(counts(0, 0, 0, 1), { busy: 1 }))).toHaveLength(1);
    });
  });
});

describe('Function: checkReadiness', () => {
  // A and then B, C (both wait for A), then D (waits for B and C).
  const look = (regs: Registers, markers: ReadyMarker[] = [], from = 100): Observation => ({ records: [transientRecord('sn', regs, ProcessingStatus.Processing)], markers, from });
  const send = (task: string, messageId: string, at = 50, g = 0): JournalEvent => ({ type: 'send', messageId, transient: 'sn', task, g, at });
  const remove = (messageId: string, at: number): JournalEvent => ({ type: 'delete', messageId, at });
  const marker = (task: string, generation = 0): ReadyMarker => ({ task, shard: 0, priority: 'p', name: 'sn', readyAt: 1, generation, id: 'x' });
  const lost = (regs: Registers, events: JournalEvent[], markers: ReadyMarker[] = []) =>
    checkReadiness(workflow, look(regs, markers), events).map((violation) => violation.task);
  const afterA = registers({ A: 'processed' });

  it('finds nothing when every ready task has a message, a marker, or a finished prerequisite whose message is still queued', () => {
    expect(lost(afterA, [send('B', 'm1'), send('C', 'm2')])).toEqual([]);
    expect(lost(afterA, [send('B', 'm1')], [marker('C')])).toEqual([]);
    // A's worker settled and died before sending B and C: A's message comes back and sends them.
    expect(lost(afterA, [send('A', 'm0')])).toEqual([]);
  });

  it('reports a ready task nothing records: its message deleted before the look, none sent, or only one of an older generation', () => {
    expect(lost(afterA, [send('A', 'm0'), remove('m0', 60), send('B', 'm1')])).toEqual(['C']);
    expect(lost(afterA, [send('B', 'm1'), send('C', 'm2', 50, 0)].slice(0, 1))).toEqual(['C']);
    const reset = { ...afterA, C: { status: 'not processed', generation: 1 } };
    expect(lost(reset, [send('B', 'm1'), send('C', 'm2', 50, 0)])).toEqual(['C']);
    expect(lost(reset, [send('B', 'm1')], [marker('C', 1)])).toEqual([]);
  });

  it('counts a message deleted only after the look began as still there', () => {
    expect(lost(afterA, [send('B', 'm1'), send('C', 'm2'), remove('m2', 150)])).toEqual([]);
  });

  it('does not ask a running or finished task for a record', () => {
    expect(lost(registers({ A: 'processing' }), [])).toEqual([]);
    expect(lost(done, [])).toEqual([]);
  });
});

