/**
 * The invariants every chaos run must keep, checked over its journal and the state it left behind. Pure:
 * what to read is gathered elsewhere (lib/chaos/observe.ts), so each rule is tested on hand-made histories.
 */
import { Status, StatusType, isFinalType, statusTypeOf } from '../domain/catalog';
import { type CountBucket, bucketOfRegisters, countBuckets } from '../domain/counts';
import { PoisonMessageError } from '../domain/errors';
import { parseTaskMessage } from '../domain/messages';
import { ProcessingStatus, type Workflow, generationOf, isReady, processingStatus, progressPercent, statusOf } from '../domain/workflow';
import type { DeadLetterRecord, ReadyMarker, RunRecord, TransientRecord } from '../engine/store';
import type { JournalEvent } from './journal';
import { Fault, OperatorFault } from './plan';

export const Invariant = {
  OneRunAtATime: 'no two runs at once',
  FixtureStatuses: 'registers end in fixture statuses, none "processing"',
  NoStaleCompletion: 'no result recorded by a run that had lost its claim',
  EffectivelyOnce: 'no finished task run again',
  ReadinessRecorded: 'every ready task running, in a queue or recorded as ready, at every look',
  DeadLettersAccounted: 'every dead letter accounted for',
  StatusAgrees: 'progress, processing status and bucket agree with the registers',
  CountersTrue: 'counters hold exactly what reached them, moves counted once, drift only from kills, repaired by the recount',
  NothingLost: 'every transient completed or blocked, every queue drained',
  HistoryRecorded: 'every settled attempt in the run history, with the status its register holds',
} as const;
export type Invariant = (typeof Invariant)[keyof typeof Invariant];

export interface Violation {
  readonly invariant: Invariant;
  readonly transient?: string;
  readonly task?: string;
  readonly detail: string;
}

/** The counters as kept, and as the recount found them from the status index. */
export interface CounterState {
  /** The counters before the recount repaired them. */
  readonly before: Record<CountBucket, number>;
  /** What the recount counted in the status index. */
  readonly counted: Record<CountBucket, number>;
  /** The counters after the recount. */
  readonly after: Record<CountBucket, number>;
  /** Shards the recount could not finish (moves kept landing). */
  readonly busy: number;
  /** When `before` was read (journal time): counter writes after it are the final recount's. */
  readonly at: number;
}

/** What a run left behind, read once its queues are drained and its dead letters handled. */
export interface FinalState {
  /** The transients the run ingested. */
  readonly names: readonly string[];
  /** Those still in the table. */
  readonly records: readonly TransientRecord[];
  readonly deadLetters: readonly DeadLetterRecord[];
  /** Names by processing status, as the processing-status index (`list --status`) returns them. */
  readonly listed: ReadonlyMap<ProcessingStatus, ReadonlySet<string>>;
  /** Messages still in the task queues and dead-letter queues (visible, in flight or delayed). */
  readonly pendingMessages: number;
  /** Ready markers still waiting for the dispatcher. */
  readonly readyMarkers: number;
  /** The run history of the transients still in the table (every attempt of every task). */
  readonly runs: readonly RunRecord[];
  /** The counters, when the run checked them (a table of its own: every transient in it is the run's). */
  readonly counters?: CounterState;
}

interface Run {
  readonly runId: string;
  readonly start: number;
  /** When it ended, or when its function would have been stopped, whichever came first. */
  readonly end: number;
}

type Transition =
  | { readonly kind: 'claim'; readonly runId: string; readonly version: number }
  | { readonly kind: 'settle'; readonly runId: string; readonly version: number; readonly status: string }
  | { readonly kind: 'write'; readonly version: number; readonly status: string };

interface History {
  readonly runs: Map<string, { start?: number; end?: number; deadline?: number }>;
  readonly transitions: Transition[];
}

const pairKey = (transient: string, task: string) => JSON.stringify([transient, task]);

const histories = (events: readonly JournalEvent[]) => {
  const byPair = new Map<string, History & { transient: string; task: string }>();
  const history = (transient: string, task: string) => {
    const key = pairKey(transient, task);
    let found = byPair.get(key);
    if (!found) {
      found = { transient, task, runs: new Map(), transitions: [] };
      byPair.set(key, found);
    }
    return found;
  };
  for (const event of events) {
    switch (event.type) {
      case 'run-start':
      case 'run-end': {
        const { runs } = history(event.transient, event.task);
        const run = runs.get(event.runId) ?? {};
        if (event.type === 'run-start') Object.assign(run, { start: event.at, deadline: event.deadline });
        else run.end = event.at;
        runs.set(event.runId, run);
        break;
      }
      case 'claim':
        history(event.transient, event.task).transitions.push({ kind: 'claim', runId: event.runId, version: event.version });
        break;
      case 'settle':
        if (event.ok && event.version !== undefined) {
          history(event.transient, event.task).transitions.push({ kind: 'settle', runId: event.runId, version: event.version, status: event.status });
        }
        break;
      case 'write':
        for (const [task, status] of Object.entries(event.statuses)) {
          history(event.transient, task).transitions.push({ kind: 'write', version: event.version, status });
        }
        break;
    }
  }
  for (const found of byPair.values()) found.transitions.sort((a, b) => a.version - b.version);
  return [...byPair.values()];
};

const describeTransition = (transition: Transition) =>
  transition.kind === 'claim'
    ? `the claim of run ${transition.runId} (version ${transition.version})`
    : transition.kind === 'settle'
      ? `run ${transition.runId}'s "${transition.status}" (version ${transition.version})`
      : `a reset or dead letter writing "${transition.status}" (version ${transition.version})`;

/** Claims, completions and resets of one (transient, task) in the order the item recorded them. */
const checkTransitions = (workflow: Workflow, transient: string, task: string, transitions: readonly Transition[]): Violation[] => {
  const violations: Violation[] = [];
  let status: string = Status.NotProcessed;
  let holder: string | undefined;
  let last: Transition | undefined;
  for (const transition of transitions) {
    if (transition.kind === 'claim') {
      if (isFinalType(statusTypeOf(workflow.catalog, status))) {
        violations.push({
          invariant: Invariant.EffectivelyOnce,
          transient,
          task,
          detail: `run ${transition.runId} claimed it after it had finished "${status}" (${last ? describeTransition(last) : 'at ingest'}), with no reset in between`,
        });
      }
      status = Status.Processing;
      holder = transition.runId;
    } else if (transition.kind === 'settle') {
      if (holder !== transition.runId) {
        violations.push({
          invariant: Invariant.NoStaleCompletion,
          transient,
          task,
          detail: `run ${transition.runId} recorded "${transition.status}" over ${last ? describeTransition(last) : 'the state at ingest'}, written after its claim`,
        });
      }
      status = transition.status;
    } else {
      status = transition.status;
      holder = undefined;
    }
    last = transition;
  }
  return violations;
};

/** Runs of one (transient, task) that overlapped, unless a reset took the first one's claim away in between. */
const checkOverlaps = (transient: string, task: string, history: History): Violation[] => {
  const claims = new Map(history.transitions.flatMap((transition) => (transition.kind === 'claim' ? [[transition.runId, transition.version]] : [])));
  const writes = history.transitions.filter((transition) => transition.kind === 'write').map((transition) => transition.version);
  const runs: Run[] = [...history.runs].flatMap(([runId, run]) => {
    if (run.start === undefined || run.deadline === undefined) return [];
    return [{ runId, start: run.start, end: Math.min(run.end ?? run.deadline, run.deadline) }];
  });
  runs.sort((a, b) => a.start - b.start);
  const violations: Violation[] = [];
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const first = runs[i];
      const second = runs[j];
      if (!first || !second || second.start >= first.end) continue;
      const from = claims.get(first.runId) ?? Number.NEGATIVE_INFINITY;
      const to = claims.get(second.runId) ?? Number.POSITIVE_INFINITY;
      if (writes.some((version) => version > from && version < to)) continue;
      violations.push({
        invariant: Invariant.OneRunAtATime,
        transient,
        task,
        detail: `runs ${first.runId} and ${second.runId} ran at once (${second.start - first.start} ms apart) with no reset in between`,
      });
    }
  }
  return violations;
};

const checkRegisters = (workflow: Workflow, record: TransientRecord, listed: FinalState['listed']): Violation[] => {
  const violations: Violation[] = [];
  const transient = record.transient.name;
  for (const task of workflow.order) {
    const status = statusOf(record.registers, task);
    const type = statusTypeOf(workflow.catalog, status);
    if (type === undefined || type === StatusType.Warning) {
      violations.push({
        invariant: Invariant.FixtureStatuses,
        transient,
        task,
        detail: type === undefined ? `"${status}" is not a status of ${workflow.catalog.statusFile}` : `still "${status}" after the queues drained`,
      });
    }
  }
  for (const task of Object.keys(record.registers)) {
    if (!workflow.specs.has(task)) violations.push({ invariant: Invariant.FixtureStatuses, transient, task, detail: 'a register for a task no runner works on' });
  }
  const computed = processingStatus(workflow, record.registers);
  if (record.processingStatus !== computed) {
    violations.push({ invariant: Invariant.StatusAgrees, transient, detail: `stored processing status "${record.processingStatus}", registers say "${computed}"` });
  }
  const bucket = bucketOfRegisters(workflow, record.registers);
  if (record.bucket !== bucket) {
    violations.push({ invariant: Invariant.StatusAgrees, transient, detail: `stored in the counters' bucket "${record.bucket}", registers say "${bucket}"` });
  }
  for (const [status, names] of listed) {
    if (names.has(transient) !== (status === computed)) {
      violations.push({
        invariant: Invariant.StatusAgrees,
        transient,
        detail: `the processing-status index ${names.has(transient) ? 'lists' : 'does not list'} it as "${status}"; its registers say "${computed}"`,
      });
    }
  }
  const progress = progressPercent(workflow, record.registers);
  if (computed !== ProcessingStatus.Processing && progress !== 100) {
    violations.push({ invariant: Invariant.StatusAgrees, transient, detail: `"${computed}" at ${progress}% progress` });
  }
  if (computed === ProcessingStatus.Processing) {
    violations.push({ invariant: Invariant.NothingLost, transient, detail: 'still processing after the queues drained: some ready task was lost' });
  }
  return violations;
};

const checkDeadLetter = (
  workflow: Workflow,
  letter: DeadLetterRecord,
  records: ReadonlyMap<string, TransientRecord>,
  deleted: ReadonlySet<string>,
): Violation | undefined => {
  const fail = (detail: string): Violation => ({ invariant: Invariant.DeadLettersAccounted, transient: letter.name, task: letter.task, detail });
  let message;
  try {
    message = parseTaskMessage(letter.body);
  } catch (error) {
    if (!(error instanceof PoisonMessageError)) throw error;
    return letter.reason.trim() === '' ? fail('an unreadable message kept with no reason') : undefined;
  }
  if (!workflow.specs.has(message.task)) return letter.reason.includes(message.task) ? undefined : fail(`a message for unknown task "${message.task}" kept as "${letter.reason}"`);
  const record = records.get(message.transient);
  // A transient deleted after its dead letter was recorded took its register with it.
  if (!record && deleted.has(message.transient)) return undefined;
  if (!record) return /unknown transient/.test(letter.reason) ? undefined : fail(`transient "${message.transient}" is gone, but the record says "${letter.reason}"`);
  const register = record.registers[message.task];
  const status = statusOf(record.registers, message.task);
  const recorded = /^recorded "(.*?)"/.exec(letter.reason)?.[1];
  if (recorded !== undefined) {
    if (status !== recorded || !register?.deadLettered || statusTypeOf(workflow.catalog, status) !== StatusType.Error) {
      return fail(`the record says it recorded "${recorded}", the register shows "${status}"${register?.deadLettered ? '' : ' (not marked as dead-lettered)'}`);
    }
    return undefined;
  }
  if (/^nothing recorded/.test(letter.reason) && isFinalType(statusTypeOf(workflow.catalog, status))) return undefined;
  return fail(`the record says "${letter.reason}", the register shows "${status}"`);
};

/** One look at the pipeline while it runs: the registers, then the ready markers, read in that order. */
export interface Observation {
  readonly records: readonly TransientRecord[];
  readonly markers: readonly ReadyMarker[];
  /** Journal time (ms) at which the registers' read began. */
  readonly from: number;
}

/**
 * Principle 2, at one look: every task whose prerequisites hold and that is "not processed" is recorded as
 * ready somewhere that nothing but its own handling removes — a message for it (of its register's generation)
 * in a queue, a ready marker, or a message of a finished prerequisite's task still in a queue (whose redelivery,
 * or the dead-letter handler, sends it on). A message counts if it was sent (before the look ended) and not
 * deleted before the look began; the journal records every send and delete.
 */
export const checkReadiness = (workflow: Workflow, observation: Observation, events: readonly JournalEvent[]): Violation[] => {
  const deleted = new Set(events.flatMap((event) => (event.type === 'delete' && event.at < observation.from ? [event.messageId] : [])));
  const live = new Set(
    events.flatMap((event) => (event.type === 'send' && !deleted.has(event.messageId) ? [JSON.stringify([event.transient, event.task, event.g])] : [])),
  );
  const marked = new Set(observation.markers.map((marker) => JSON.stringify([marker.name, marker.task, marker.generation])));
  const violations: Violation[] = [];
  for (const record of observation.records) {
    const transient = record.transient.name;
    const has = (set: ReadonlySet<string>, task: string) => set.has(JSON.stringify([transient, task, generationOf(record.registers, task)]));
    for (const task of workflow.order) {
      const spec = workflow.specs.get(task);
      if (!spec || !isReady(spec, record.registers)) continue;
      if (has(live, task) || has(marked, task)) continue;
      const carriers = Object.keys(spec.prerequisites).filter(
        (before) => before !== task && isFinalType(statusTypeOf(workflow.catalog, statusOf(record.registers, before))) && has(live, before),
      );
      if (carriers.length > 0) continue;
      violations.push({
        invariant: Invariant.ReadinessRecorded,
        transient,
        task,
        detail: `ready (generation ${generationOf(record.registers, task)}) with no message, no ready marker and no message of a finished prerequisite left: nothing will run it`,
      });
    }
  }
  return violations;
};

/** Faults that can lose a counter move: a killed invocation, or a counter write throttled past the retry budget. */
const countLossFaults = (events: readonly JournalEvent[]) =>
  events.filter((event) => event.type === 'fault' && (event.fault === Fault.Kill || (event.fault === Fault.ThrottleStorm && event.key.includes('COUNTS#')))).length;

const sumBy = (deltas: readonly Partial<Record<string, number>>[]): Record<CountBucket, number> => {
  const total = Object.fromEntries(countBuckets.map((bucket) => [bucket, 0])) as Record<CountBucket, number>;
  for (const delta of deltas) for (const bucket of countBuckets) total[bucket] += delta[bucket] ?? 0;
  return total;
};

/**
 * The counters, checked three ways. Exactly: they hold what the counter updates that reached the table added (the
 * journal records each on the wire: none was applied twice), and the buckets moved as the registers say (each
 * write that moved a transient moved it once). Within what faults explain: the moves that were never counted
 * (two units each) number at most the invocations killed and the counter writes throttled past the retry budget.
 * And after the run: the recount (from the index) equals the registers, and the counters equal it.
 */
const checkCounters = (workflow: Workflow, records: readonly TransientRecord[], counters: CounterState, events: readonly JournalEvent[]): Violation[] => {
  const truth = sumBy(records.map((record) => ({ [bucketOfRegisters(workflow, record.registers)]: 1 })));
  // What reached the counters before the final recount (repairs during the run included).
  const counted = sumBy(events.flatMap((event) => (event.type === 'count' && event.at <= counters.at ? [event.delta] : [])));
  const moved = sumBy(events.flatMap((event) => (event.type === 'move' ? [{ ...(event.from ? { [event.from]: -1 } : {}), ...(event.to ? { [event.to]: 1 } : {}) }] : [])));
  const describe = (counts: Record<CountBucket, number>) => countBuckets.map((bucket) => `${bucket} ${counts[bucket]}`).join(', ');
  const differ = (a: Record<CountBucket, number>, b: Record<CountBucket, number>) => countBuckets.some((bucket) => a[bucket] !== b[bucket]);
  const violations: Violation[] = [];
  const fail = (detail: string) => violations.push({ invariant: Invariant.CountersTrue, detail });
  if (differ(counters.before, counted)) fail(`the counters said ${describe(counters.before)}; the counter updates that reached the table add up to ${describe(counted)}`);
  if (differ(moved, truth)) fail(`the buckets moved add up to ${describe(moved)}; the registers say ${describe(truth)}`);
  if (differ(counters.counted, truth)) fail(`the recount found ${describe(counters.counted)}; the registers say ${describe(truth)}`);
  if (differ(counters.after, truth)) fail(`after the recount the counters say ${describe(counters.after)}; the registers say ${describe(truth)}`);
  if (counters.busy > 0) fail(`the recount left ${counters.busy} shard(s) busy in a quiet table`);
  const uncounted = countBuckets.reduce((sum, bucket) => sum + Math.abs(moved[bucket] - counted[bucket]), 0);
  const explained = 2 * countLossFaults(events);
  if (uncounted > explained) fail(`${uncounted} units of moves were never counted (${describe(moved)} moved, ${describe(counted)} counted); faults explain at most ${explained}`);
  return violations;
};

/**
 * Each register a run settled names its attempt (its claim) in the run history, recorded with the status the register
 * holds; a dead-lettered register's status is the dead-letter handler's, so its attempt need only be there.
 */
export const checkHistory = (record: TransientRecord, runs: readonly RunRecord[]): Violation[] =>
  Object.entries(record.registers).flatMap(([task, register]) => {
    if (!register?.claim || register.status === Status.NotProcessed || register.status === Status.Processing) return [];
    const transient = record.transient.name;
    const run = runs.find((candidate) => candidate.name === transient && candidate.task === task && candidate.run === register.claim);
    const attempt = `attempt ${register.attempt ?? '?'} (${register.claim})`;
    if (!run) return [{ invariant: Invariant.HistoryRecorded, transient, task, detail: `${attempt} settled "${register.status}" but has no history record` }];
    if (!register.deadLettered && run.status !== register.status) {
      return [{ invariant: Invariant.HistoryRecorded, transient, task, detail: `${attempt}: the register says "${register.status}", its history record "${run.status}"` }];
    }
    return [];
  });

/** Every violation of the invariants in a run's journal and final state; none when the run was sound. */
export const checkInvariants = (workflow: Workflow, events: readonly JournalEvent[], state: FinalState): Violation[] => {
  const violations: Violation[] = [];
  for (const history of histories(events)) {
    violations.push(...checkTransitions(workflow, history.transient, history.task, history.transitions));
    violations.push(...checkOverlaps(history.transient, history.task, history));
  }
  const records = new Map(state.records.map((record) => [record.transient.name, record]));
  const deleted = new Set(events.flatMap((event) => (event.type === 'action' && event.action === OperatorFault.Delete && event.transient ? [event.transient] : [])));
  for (const name of state.names) {
    const record = records.get(name);
    if (record) violations.push(...checkRegisters(workflow, record, state.listed), ...checkHistory(record, state.runs));
    else if (!deleted.has(name)) violations.push({ invariant: Invariant.NothingLost, transient: name, detail: 'missing from the table, though nobody deleted it' });
  }
  for (const letter of state.deadLetters) {
    const violation = checkDeadLetter(workflow, letter, records, deleted);
    if (violation) violations.push(violation);
  }
  if (state.counters) violations.push(...checkCounters(workflow, state.records, state.counters, events));
  if (state.pendingMessages > 0) violations.push({ invariant: Invariant.NothingLost, detail: `${state.pendingMessages} messages still in the queues` });
  if (state.readyMarkers > 0) violations.push({ invariant: Invariant.NothingLost, detail: `${state.readyMarkers} ready markers never dispatched` });
  return violations;
};
