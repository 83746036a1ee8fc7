/**
 * Which methods of the store port each kind of function calls: the one place these are written. The stack
 * grants each function the DynamoDB actions its adapter declares for these methods (lib/store/dynamodb), and
 * the IAM contract test (test/infra/bundled-workflow.test.ts) checks every call the deployed code made against
 * the grants, and every grant against the calls.
 */
import { SystemCapability } from '../runner';
import type { StoreConcern, StoreMethod } from './store';

export type StoreUse = { readonly [C in StoreConcern]?: readonly StoreMethod<C>[] };

/** A transient runner's worker: claim, settle, its bucket and counters, outputs, and the successors it makes ready. */
export const WORKER_STORE_USE: StoreUse = {
  transients: ['get', 'claim', 'settle', 'setBucket'],
  outputs: ['save', 'read'],
  history: ['record'],
  readiness: ['put', 'delete'],
  counters: ['add'],
};

/**
 * A container run: what the worker does after its claim (the transient, its settle, bucket and counters, outputs and
 * the successors it makes ready), and its heartbeats; no claim of its own.
 */
export const CONTAINER_RUN_STORE_USE: StoreUse = {
  transients: ['get', 'settle', 'setBucket', 'extendLease'],
  outputs: ['save', 'read'],
  history: ['record'],
  readiness: ['put', 'delete'],
  counters: ['add'],
};

/** The dispatcher: its lock, the ready markers it pages through, sends and deletes. */
export const DISPATCHER_STORE_USE: StoreUse = {
  locks: ['acquire', 'release'],
  readiness: ['page', 'delete'],
};

/**
 * The dead-letter handler: the compare-and-set of the register (a transaction with the ready markers it makes),
 * the bucket and counters, the dead-letter record, and the ready markers of the successors of a task the message
 * finished before its worker died.
 */
export const DEAD_LETTER_STORE_USE: StoreUse = {
  transients: ['get', 'replace', 'setBucket'],
  // The history record of the attempt whose claim its "time limit exceeded" takes, or of a last delivery that settled and died before writing it (lib/engine/attempts.ts).
  history: ['record'],
  deadLetters: ['put'],
  readiness: ['put', 'delete'],
  counters: ['add'],
};

/**
 * The web view's API (functions/web-api.ts): what the CLI's views read (transients by processing status and one
 * by one, the output a register holds or an earlier run saved, a transient's run history, dead letters, counts, each
 * runner's ready markers), and the operator's controls, which are the CLI's own operations (lib/engine/operations.ts):
 * a reset's compare-and-set with the ready markers it makes, its bucket and counts, and a redrive's removal of the
 * records it sent again.
 */
export const WEB_API_STORE_USE: StoreUse = {
  transients: ['get', 'getMany', 'statusPage', 'replace', 'setBucket'],
  outputs: ['read'],
  // Its attempts timeline reads the history; a reset that takes a run's claim records that run's attempt
  // (lib/engine/attempts.ts).
  history: ['list', 'record'],
  deadLetters: ['page', 'delete'],
  readiness: ['put', 'delete', 'page'],
  counters: ['read', 'add'],
};

/** Every system run takes and releases its runner's lock (lib/engine/system.ts). */
export const RUN_LOCK_STORE_USE: StoreUse = { locks: ['acquire', 'release'] };

/** What each capability a system runner may declare in `uses` calls (the context methods of lib/engine/system.ts). */
export const SYSTEM_CAPABILITY_STORE_USE: Readonly<Record<SystemCapability, StoreUse>> = {
  // Creates (a transaction, authorised per item), counts them, deletes the markers of the first tasks it sent.
  [SystemCapability.Ingest]: { transients: ['create'], counters: ['add'], readiness: ['delete'] },
  // Reads the reported names; an ingest's writes; a revision's replace, bucket and counts; markers of reset tasks.
  // A revision that resets a task while it runs records that run's attempt in the history.
  [SystemCapability.Upsert]: { transients: ['getMany', 'create', 'replace', 'setBucket'], counters: ['add'], readiness: ['put', 'delete'], history: ['record'] },
  [SystemCapability.Counts]: { counters: ['read'] },
  [SystemCapability.ProcessingStatuses]: { transients: ['getMany'] },
  [SystemCapability.State]: { systemState: ['read', 'write'] },
  [SystemCapability.Recount]: { counters: ['readShard', 'repairShard'], transients: ['countShard'] },
  // Pages the "processing" transients, reads them, and releases stalled tasks with their ready markers (a
  // transaction: UpdateItem and PutItem; read again if another write got there first), counting a bucket move;
  // it sends nothing (its function has no queue), the dispatcher does.
  [SystemCapability.Recover]: { transients: ['statusPage', 'getMany', 'get', 'replace'], counters: ['add'], history: ['record'] },
  // Reads the transients of each listed page of artifacts, for the claims their registers hold.
  [SystemCapability.PruneArtifacts]: { transients: ['getMany'] },
};

/** The union of several uses. */
export const combinedUse = (...uses: readonly StoreUse[]): StoreUse => {
  const combined: Record<string, Set<string>> = {};
  for (const use of uses) for (const [concern, methods] of Object.entries(use)) for (const method of methods ?? []) (combined[concern] ??= new Set()).add(method);
  return Object.fromEntries(Object.entries(combined).map(([concern, methods]) => [concern, [...methods]])) as StoreUse;
};
