/**
 * The storage port: what the engine needs from storage, grouped by concern and typed with the engine's own
 * records. lib/store/dynamodb implements it on one DynamoDB table; lib/store/memory in memory, for tests of the
 * engine's rules that need no database. Both pass the same conformance suite (test/conformance/task-store.test.ts),
 * so every rule below — the conditions of claims, settles, resets — holds the same in either.
 */
import type { Artifact, ArtifactManifest } from '../domain/artifacts';
import type { CountBucket, CountDelta } from '../domain/counts';
import { TaskRunnerError } from '../domain/errors';
import type { RunInputs } from '../domain/staleness';
import type { ProcessingStatus, Register, Registers, TaskSpec } from '../domain/workflow';
import type { Transient } from '../runner';
import { Lane } from '../domain/lanes';

/** Partitions of the processing-status index (`list --status`, the recount), so no status value is one hot key. */
export const STATUS_INDEX_SHARDS = 8;
/**
 * Items the transient counters are spread over, so no single item takes every status change. A transient is
 * counted in the counter item of the same shard as its status-index partition, so a shard can be recounted alone.
 */
export const COUNTER_SHARDS = STATUS_INDEX_SHARDS;

/** The store refuses a write for what it is (an item or key over its limits): retrying cannot help. */
export class StoreRefusedError extends TaskRunnerError {}

/** Where a page of a listing stopped; pass it back to read the next page. Opaque to the engine. */
export type PageCursor = string;

/** A transient as stored: its data, its registers and the bookkeeping of concurrent writers. */
export interface TransientRecord {
  readonly transient: Transient;
  readonly registers: Registers;
  /** Incremented by every register write; orders derived-field writes and guards multi-register writes. */
  readonly version: number;
  readonly processingStatus: ProcessingStatus;
  /** The counters' bucket the transient is counted in: every write that changes it moves one unit between counters. */
  readonly bucket: CountBucket;
  /** Marks the last `setBucket` write (its writer), so a resend refused by its own landing knows it landed. */
  readonly bucketWriter?: string;
  readonly createdAt: number;
}

export interface ReadyMarker {
  readonly task: string;
  readonly shard: number;
  /** Blast's priority as a sort key: oldest public timestamp first (lib/domain/priority.ts). */
  readonly priority: string;
  readonly name: string;
  /** Epoch ms when the task became ready (for chaining latency). */
  readonly readyAt: number;
  /** The task register's generation when it became ready (carried into the message). */
  readonly generation: number;
  /** Unique to the write that made the marker: deleting the marker one sent never deletes a newer one. */
  readonly id: string;
  /** The lane of the work (lib/domain/lanes.ts); absent is live. */
  readonly lane?: typeof Lane.Backfill;
}

/**
 * A backfill as stored (lib/engine/backfill.ts): what it selects, how far it got, and what it counted. `revision`
 * increments with every write, so that two writers (the driving process and a `backfill cancel`) never lose each
 * other's change.
 */
export interface BackfillRecord {
  readonly id: string;
  readonly revision: number;
  /** The backfill's own state, validated by the engine (lib/domain/backfill.ts). */
  readonly state: Record<string, unknown>;
}

export interface DeadLetterRecord {
  readonly task: string;
  readonly name: string;
  readonly body: string;
  readonly reason: string;
  readonly receiveCount: number;
  readonly messageId: string;
  readonly at: number;
}

/** The conditional-write outcome the caller needs: the new image, or the image that refused the write. */
export type WriteResult = { ok: true; record: TransientRecord } | { ok: false; current: TransientRecord | undefined };

/**
 * A claim's outcome; `previous`: the register the claim replaced, when it is known (a claim held through its own
 * earlier landing does not know it). A "processing" one under another token is an attempt that never settled.
 */
export type ClaimResult = { ok: true; record: TransientRecord; previous?: Register } | { ok: false; current: TransientRecord | undefined };

/** A settle's outcome; `bucketWritten`: the derived bucket went into the same write. */
export type SettleResult = { ok: true; record: TransientRecord; bucketWritten: boolean } | { ok: false; current: TransientRecord | undefined };

/** The bucket a write moves a transient to, computed from the image at `version`, whose bucket was `from`. */
export interface BucketMove {
  readonly from: CountBucket;
  readonly to: CountBucket;
  readonly version: number;
}

export interface CreateEntry {
  readonly transient: Transient;
  readonly registers: Registers;
  readonly bucket: CountBucket;
  readonly markers: readonly ReadyMarker[];
}

export interface CreateResult {
  readonly created: string[];
  readonly existing: string[];
  /** Entries the store refuses as they are (an item or key over its limits), each with the reason. */
  readonly rejected: { name: string; reason: string }[];
}

/** What a compare-and-set write of a transient changes besides its registers. */
export interface ReplaceOptions {
  /** The transient's new data. */
  readonly transient?: Transient;
  /** Ready markers written in the same atomic write: the durable record of what the write makes ready. */
  readonly markers?: readonly ReadyMarker[];
  /** Marks the write, so that a resend refused by its own earlier landing (a reply lost) is known as written. */
  readonly writer?: string;
}

/** A counter item: the counts of one shard, and a version every change increments. */
export interface CounterShard {
  readonly counts: Record<CountBucket, number>;
  readonly version: number;
}

/** A lock's lease, by the taker's clock. */
export interface Lease {
  readonly until: number;
  /** A lock whose lease ended before this (the taker's now less the tolerated clock skew) may be taken. */
  readonly expiredBefore: number;
}

export interface Page<T> {
  readonly items: T[];
  /** Absent on the last page. */
  readonly next?: PageCursor;
}

/** The transients: one record each, holding every register, so that a claim is one conditional write. */
export interface TransientStore {
  get(name: string): Promise<TransientRecord | undefined>;
  /** Any number of transients by name; missing names are left out. */
  getMany(names: readonly string[]): Promise<TransientRecord[]>;
  /**
   * Creates transients that do not exist yet, each together with its ready markers in one atomic write. Existing
   * ones are left exactly as they are; an entry the store refuses as it is is rejected alone.
   */
  create(entries: readonly CreateEntry[], now: number): Promise<CreateResult>;
  /**
   * Principle 3: moves one register to "processing" in a single conditional write that re-checks every
   * prerequisite at that instant, under the invocation's token, for a message of the register's generation:
   * the register is missing, or "not processed" (a waiting retry only for its own message, before `retryAt`),
   * or "processing" with its lease ended before `now`. A claim refused by its own earlier landing (the same
   * token) is held.
   */
  claim(name: string, spec: TaskSpec, register: Register, now: number): Promise<ClaimResult>;
  /**
   * Replaces a register held by `token`, only while it is still "processing" under that token. Given `move`, the
   * bucket goes into the same write if nothing has written since its version; otherwise the register is settled
   * alone. A write refused by its own earlier landing is settled.
   */
  settle(name: string, task: string, token: string, register: Register, move?: BucketMove): Promise<SettleResult>;
  /**
   * A container run's heartbeat: moves the lease of a register held by `token` to `leaseUntil`, only while it is still
   * "processing" under that token (a run whose claim was lost to a reset or a takeover is refused). Counts as a
   * register write (the version moves), so a compare-and-set that read the old lease is refused.
   */
  extendLease(name: string, task: string, token: string, leaseUntil: number): Promise<WriteResult>;
  /**
   * Writes several registers, the derived bucket and optionally new data — with ready markers, atomically — only
   * if neither the version nor the bucket changed since `expected` was read.
   */
  replace(name: string, expected: TransientRecord, registers: Registers, bucket: CountBucket, options?: ReplaceOptions): Promise<WriteResult>;
  /**
   * Records the bucket computed from the image at `move.version`, if the stored bucket is still `move.from` and no
   * later image's bucket was written. Returns whether this call's write moved the transient.
   */
  setBucket(name: string, move: BucketMove, writer: string): Promise<boolean>;
  /** Deletes a transient; returns it as it was. */
  delete(name: string): Promise<TransientRecord | undefined>;
  /** One page of a processing-status partition, oldest public timestamp first, after the priority key `after`. */
  statusPage(status: ProcessingStatus, shard: number, limit: number, after?: string): Promise<{ entries: { name: string; priority: string }[]; more: boolean }>;
  /** The transients of one shard by bucket, counted from the processing-status index. */
  countShard(shard: number): Promise<Record<CountBucket, number>>;
}

/** The sparse ready index the dispatcher reads: markers by task and shard, in priority order. */
export interface ReadinessStore {
  put(markers: readonly ReadyMarker[]): Promise<void>;
  /** Deletes exactly these markers (each is unique to the write that made it). */
  delete(markers: readonly ReadyMarker[]): Promise<void>;
  /**
   * One page of a task's shard: the live lane's markers first, then the backfill lane's, each in priority order;
   * given a lane, that lane's markers only.
   */
  page(task: string, shard: number, limit: number, cursor?: PageCursor, lane?: Lane): Promise<Page<ReadyMarker>>;
}

/** Backfills, one record each (a handful at a time: one partition holds them all). */
export interface BackfillStore {
  get(id: string): Promise<BackfillRecord | undefined>;
  /**
   * Writes the backfill at revision `expected + 1`, only if it is still at `expected` (`undefined`: only if it does
   * not exist yet). Returns the record written, or undefined when another write got there first.
   */
  save(id: string, state: Record<string, unknown>, expected: number | undefined): Promise<BackfillRecord | undefined>;
  /** Every backfill, by id. */
  list(): Promise<BackfillRecord[]>;
}

/** Leases on a task's dispatching or a system runner's run. */
export interface LockStore {
  /** Takes the lock if it is free, its lease ended before `lease.expiredBefore`, or `owner` holds it (renewal). */
  acquire(task: string, owner: string, lease: Lease): Promise<boolean>;
  /** Releases the lock if `owner` holds it. */
  release(task: string, owner: string): Promise<void>;
}

/** What a run recorded for later tasks: its saved data (or where it went, if too large for an item) and its artifacts. */
export interface RunOutput {
  /** What the run saved, when it fits an item. */
  readonly data?: Record<string, unknown>;
  /** Where what the run saved went when it did not fit an item (an artifact of the run). */
  readonly spilled?: Artifact;
  /** The artifacts the run put, by name. */
  readonly artifacts?: ArtifactManifest;
}

/** Runs' outputs, one per run that saved or put artifacts, under its claim token. */
export interface OutputStore {
  /** Replaces the run's output. */
  save(name: string, task: string, token: string, output: RunOutput, now: number): Promise<void>;
  read(name: string, task: string, token: string): Promise<RunOutput | undefined>;
}

/** Where an attempt ran and logged: its invocation, as Lambda names it, or the local runtime's log file. */
export interface Invocation {
  readonly requestId?: string;
  /** CloudWatch Logs group and stream, or locally the log file (`.blast-local/handlers.log`). */
  readonly logGroup?: string;
  readonly logStream?: string;
}

/**
 * One attempt of a task on a transient (run history): written once, whole, when it ends — by its own run when it
 * settles, or, for an attempt that never settled (its run killed, its lease expired), by whoever takes its claim
 * over: the next claim, the dead-letter handler, a reset (lib/engine/history.ts).
 */
export interface RunRecord {
  readonly name: string;
  readonly task: string;
  /** The run's claim token: its output item and artifacts are under it. */
  readonly run: string;
  readonly attempt: number;
  readonly startedAt: number;
  readonly endedAt?: number;
  readonly durationMs?: number;
  /**
   * The status it came to ("not processed" for a retry); for an attempt that never settled, "time limit exceeded"
   * when its lease had run out, else "processing" (a reset took its claim while it might still have been running).
   */
  readonly status: string;
  readonly error?: string;
  /** False when its result was not recorded: its claim was lost to a reset, a takeover or a deletion. */
  readonly recorded?: boolean;
  /** Set on the record of an attempt that never settled, written by what took its claim over (its end is then). */
  readonly lost?: boolean;
  readonly version: string;
  readonly fingerprint: string;
  /** What the fingerprint is the digest of: the fields it read and the upstream runs it could read. */
  readonly inputs: RunInputs;
  readonly invocation?: Invocation;
  /** The names of the artifacts it put. */
  readonly artifacts?: readonly string[];
  /** Epoch seconds after which the store may delete the record (DynamoDB's TTL). */
  readonly expiresAt: number;
}

/** Run history: an item per attempt, separate from the transient's item, so the register stays small. */
export interface HistoryStore {
  /**
   * Writes one attempt's record, under a key made of its task, start and run, so each attempt has one whatever
   * writes it. A run's own record replaces whatever is there; `ifAbsent` (a lost attempt's record, written by
   * whoever took its claim over) writes only if there is none, so it never replaces the one its run wrote.
   */
  record(run: RunRecord, options?: { readonly ifAbsent?: boolean }): Promise<void>;
  /** A transient's attempts, of one task or of all, newest first within each task (tasks in name order). */
  list(name: string, task?: string, limit?: number, cursor?: PageCursor): Promise<Page<RunRecord>>;
}

export interface DeadLetterStore {
  put(record: DeadLetterRecord): Promise<void>;
  page(task: string, limit: number, cursor?: PageCursor): Promise<Page<DeadLetterRecord>>;
  /** Deletes a record; given `messageId`, only if it is still that message's (a newer one filed since stays). */
  delete(task: string, name: string, messageId?: string): Promise<void>;
}

/** The transient counters, by shard. */
export interface CounterStore {
  /** Moves transients between buckets (and counts the shard's version). Never applied twice by a resend. */
  add(shard: number, delta: CountDelta): Promise<void>;
  /** The counts summed over the shards: a few reads, whatever the number of transients. */
  read(): Promise<Record<CountBucket, number>>;
  readShard(shard: number): Promise<CounterShard>;
  /** Sets a shard's counts if no move changed it since it was read at `version`. */
  repairShard(shard: number, version: number, counts: Record<CountBucket, number>): Promise<boolean>;
}

/** A small record per system runner, kept between runs (a checkpoint). */
export interface SystemStateStore {
  read(task: string): Promise<Record<string, unknown> | undefined>;
  write(task: string, state: Record<string, unknown>, now: number): Promise<void>;
}

export interface TaskStore {
  readonly transients: TransientStore;
  readonly readiness: ReadinessStore;
  readonly locks: LockStore;
  readonly outputs: OutputStore;
  readonly history: HistoryStore;
  readonly deadLetters: DeadLetterStore;
  readonly counters: CounterStore;
  readonly systemState: SystemStateStore;
  readonly backfills: BackfillStore;
}

/** The concerns of the port, each a group of methods. */
export type StoreConcern = keyof TaskStore;
/** The methods of one concern. */
export type StoreMethod<C extends StoreConcern> = Exclude<keyof TaskStore[C], symbol>;
