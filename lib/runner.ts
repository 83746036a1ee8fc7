/**
 * The runner API, Blast's in TypeScript: what runner files (runners/) import of the framework, besides the
 * fixtures' generated names and the pure domain (errors, statuses). It is the project's public face for runner authors, which
 * is why it sits at the root of lib/ rather than in a layer's folder. A transient runner declares the task it
 * works on, its prerequisites, the status to record when it throws, and the processing of one transient; a
 * system runner does work that belongs to no transient. Everything around them (claims, statuses, queues,
 * schedules) is the framework's. What a runner declares and the transient it sees belong to the domain
 * (lib/domain/declaration.ts, lib/domain/transient.ts), which imports nothing of this API; they are re-exported here.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Artifact } from './domain/artifacts';
import type { TransientCounts } from './domain/counts';
import { type PythonSource, SystemTaskDeclaration, TransientTaskDeclaration } from './domain/declaration';
import type { Transient } from './domain/transient';
import type { Prerequisites, ProcessingStatus } from './domain/workflow';
import { PYTHON_WORKER_MARGIN_SECONDS } from './domain/limits';
import { Compute } from './domain/compute';

export type { TransientCounts } from './domain/counts';
export type { Artifact } from './domain/artifacts';
export { ScratchAccess, SystemCapability, TransientField, transientFields } from './domain/declaration';
export { Compute } from './domain/compute';
export type { PythonSource } from './domain/declaration';
export type { Transient } from './domain/transient';

/** The logger methods runners use: Powertools' structured JSON logger, keyed with transient and task. */
export type TaskLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface TaskContext {
  /** 1 on the first delivery, then the SQS receive count. */
  readonly attempt: number;
  /** Identifies this run: the claim it holds on the task (in logs, and in the chaos suite's journal). */
  readonly runId: string;
  /** Aborted shortly before the function's timeout, so long work can stop cleanly. */
  readonly signal: AbortSignal;
  readonly logger: TaskLogger;
  /** What an earlier task saved for this transient (undefined if it saved nothing). */
  output<T extends object = Record<string, unknown>>(task: string): Promise<T | undefined>;
  /**
   * Stores this run's results for later tasks; a later save of the same run replaces an earlier one. Later tasks
   * read the results of the run whose status the register recorded, never those of a run whose claim was lost.
   */
  save(data: Record<string, unknown>): Promise<void>;
  /** Files for later tasks (cutouts, posteriors), kept per run at the artifact location (ARTIFACT_LOCATION). */
  readonly artifacts: TaskArtifacts;
}

/**
 * A run's artifacts. Each run has its own (a retry or a reprocess puts a new set, which supersedes the old); a
 * later task reads those of the run whose result the register holds, as `output` does, and pruning deletes the rest.
 */
export interface TaskArtifacts {
  /**
   * Stores `data` as this run's artifact `name` ('/'-separated parts of letters, digits, `.`, `_`, `-`; at most 128
   * characters) and records its key, size and SHA-256 with the run's output. A run may put at most 32; the same
   * name again replaces the earlier one.
   */
  put(name: string, data: Uint8Array | string, contentType?: string): Promise<Artifact>;
  /**
   * The bytes of artifact `name`: this run's, or with `task`, those of the run whose result that task's register
   * holds. Undefined when that run recorded no such artifact. Throws if the bytes are not what was recorded.
   */
  get(name: string, options?: { readonly task?: string }): Promise<Uint8Array | undefined>;
  /** This run's artifacts, or with `task`, those of the run that task's register holds. */
  list(options?: { readonly task?: string }): Promise<Artifact[]>;
}

export interface IngestSummary {
  readonly created: number;
  readonly existing: number;
  /** Transients refused as they are (invalid, or over DynamoDB's limits), each with the reason; the rest were ingested. */
  readonly rejected: readonly { readonly name: string; readonly reason: string }[];
}

export interface UpsertSummary {
  /** New transients, ingested with every task "not processed". */
  readonly created: number;
  /** Known transients whose data changed (and whose affected tasks were reset). */
  readonly updated: number;
  /** Known transients whose data was already identical: nothing written. */
  readonly unchanged: number;
  /** Registers reset to "not processed" because coordinates or redshift changed. */
  readonly tasksReset: number;
  /** Transients refused as invalid, each with the reason. */
  readonly rejected: readonly { readonly name: string; readonly reason: string }[];
}

export interface UpsertOptions {
  /**
   * Send new transients' first tasks to their queues now (default). False leaves them to the dispatcher's
   * next tick, which suits bulk loads (one query per page of markers instead of a send per transient).
   */
  readonly announce?: boolean;
}

/** One scratch object (an S3 object under the scratch prefix, or a file under the scratch directory). */
/** What a recovery sweep found and did. */
export interface RecoverySummary {
  /** "Processing" transients looked at. */
  readonly checked: number;
  /** The transients whose stalled tasks were reset and recorded as ready, for the dispatcher. */
  readonly recovered: readonly string[];
}

/** What a recount found and did. */
export interface RecountSummary {
  /** The counters before the recount. */
  readonly before: TransientCounts;
  /** What the processing-status index holds. */
  readonly counted: TransientCounts;
  /** Counter shards set to what was counted. */
  readonly repaired: number;
  /** Counter shards left for the next recount because moves kept landing on them. */
  readonly busy: number;
}

/** What an artifact pruning found and did. */
export interface ArtifactPruneReport {
  /** Where the artifacts live (`s3://bucket/prefix/` or a directory). */
  readonly location: string;
  readonly listed: number;
  /** Artifacts of the runs the registers hold: kept. */
  readonly current: number;
  readonly deleted: number;
  readonly bytesDeleted: number;
  readonly failed: number;
  /** Stopped before the end because the function's time was running out. */
  readonly stopped: boolean;
}

export interface ScratchObject {
  /** Path below the scratch root, '/'-separated; by convention it starts with the transient's name. */
  readonly key: string;
  readonly lastModified: Date;
  readonly size: number;
}

/** Scratch data: an S3 prefix in AWS, a directory here (`SCRATCH_LOCATION`). */
export interface ScratchStore {
  /** Where the scratch data lives, for logs (`s3://bucket/prefix/` or a directory). */
  readonly location: string;
  /** Every object, one page at a time, so memory stays flat however many there are. */
  list(signal?: AbortSignal): AsyncIterable<readonly ScratchObject[]>;
  /** Deletes the objects; returns the keys that could not be deleted, with the reason. */
  delete(keys: readonly string[]): Promise<{ key: string; reason: string }[]>;
}

export interface SystemTaskContext {
  /** Aborted when a tenth of the function's timeout is left (at least 1 s), so long work can stop cleanly. */
  readonly signal: AbortSignal;
  readonly logger: TaskLogger;
  /** The engine's clock in epoch ms (tests control it). */
  now(): number;
  /** Adds transients with every task "not processed"; ones already known are left as they are. */
  ingest(transients: readonly Transient[]): Promise<IngestSummary>;
  /**
   * Adds new transients and brings known ones up to date. When coordinates or redshift change, the tasks
   * that use them (`usesTransientFields`) and everything downstream are reset and run again; the data
   * change and the resets are one write. Identical data writes nothing. Invalid transients are reported.
   */
  upsert(transients: readonly Transient[], options?: UpsertOptions): Promise<UpsertSummary>;
  /** Transients by state, from counters kept as statuses change (a few reads, whatever the table's size). */
  counts(): Promise<TransientCounts>;
  /**
   * Recounts the transients by state from the processing-status index (its size in reads, never the table's)
   * and repairs counter shards that drifted; shards with moves landing throughout are left for the next recount.
   */
  recount(): Promise<RecountSummary>;
  /**
   * Walks the "processing" transients (the processing-status index, then their items) and resets every task
   * that nothing will run any more: a run whose lease ended (it died, and its message is gone) or a retry whose
   * time is long past. The reset records each such task as ready, for the dispatcher.
   */
  recoverStalled(): Promise<RecoverySummary>;
  /** The processing status of each named transient that exists (unknown names are left out). */
  processingStatuses(names: readonly string[]): Promise<ReadonlyMap<string, ProcessingStatus>>;
  /**
   * Deletes the artifacts of every run no register holds (superseded by a retry or a reprocess, a claim lost, a
   * transient deleted); those of the runs the registers hold stay. Stops early when `signal` is aborted.
   */
  pruneArtifacts(): Promise<ArtifactPruneReport>;
  /** Records a metric (CloudWatch EMF) under this runner's task dimension. */
  metric(name: string, value: number, unit?: 'Count' | 'Milliseconds' | 'Bytes'): void;
  /**
   * Values of a secret this runner declares in `secretNames`: the JSON object of the Secrets Manager
   * secret whose ARN the stack passes (SECRET_ARNS), or else the environment variables named `keys`.
   * Only `keys` are returned; missing ones are left out. Never log the values.
   */
  secret(name: string, keys: readonly string[]): Promise<Readonly<Record<string, string>>>;
  /** This runner's scratch data; throws a ConfigError if SCRATCH_LOCATION is not set. */
  scratch(): ScratchStore;
  /** A small record this runner keeps between runs (a checkpoint), or undefined before the first write. */
  readState(): Promise<Record<string, unknown> | undefined>;
  writeState(state: Record<string, unknown>): Promise<void>;
}

export abstract class TransientTaskRunner extends TransientTaskDeclaration {
  /** Blast: `_run_process(transient)`. Returns a status message of the fixtures. */
  abstract process(transient: Transient, context: TaskContext): Promise<string> | string;
}

export abstract class SystemTaskRunner extends SystemTaskDeclaration {
  /** Blast: `run_process()`. */
  abstract process(context: SystemTaskContext): Promise<void> | void;
}

export type AnyRunner = TransientTaskRunner | SystemTaskRunner;

export const isTransientRunner = (runner: AnyRunner): runner is TransientTaskRunner =>
  runner instanceof TransientTaskRunner;

/** The settings a Python runner class may override (python/blast_tasks/describe.py SETTINGS). */
export type PythonSetting =
  | 'frequencySeconds'
  | 'initiallyEnabled'
  | 'memorySize'
  | 'timeoutSeconds'
  | 'maxReceiveCount'
  | 'maxConcurrency'
  | 'compute'
  | 'heartbeatSeconds'
  | 'usesTransientFields'
  | 'usesArtifacts'
  | 'readsArtifacts'
  | 'version';

/** What `npm run generate` read from a Python runner class (python/blast_tasks/describe.py), or why it could not. */
export interface PythonDeclaration {
  readonly file: string;
  readonly className: string;
  readonly taskName?: string;
  readonly prerequisites?: Prerequisites;
  readonly failedStatusMessage?: string;
  /** The settings the class overrides (Blast's `task_frequency_seconds` and the others, in their TypeScript names). */
  readonly settings?: Partial<Pick<TransientTaskRunner, PythonSetting>>;
  readonly problem?: string;
}

/** A Python runner's run, which happens in its own function: calling `process` here is a mistake of the caller. */
export class RunsInItsOwnFunctionError extends Error {
  override readonly name = 'RunsInItsOwnFunctionError';
}

/**
 * A transient runner written in Python as Blast's docs write them (`python/blast_tasks`), its declaration read
 * from the class itself. Only its `_run_process` is Python: the engine claims, invokes the runner's function with
 * the transient, checks the status it returns and settles, as for any runner.
 */
export class PythonTransientRunner extends TransientTaskRunner {
  readonly taskName: string;
  readonly prerequisites: Prerequisites;
  readonly failedStatusMessage: string;
  override readonly python: PythonSource;

  constructor(declared: PythonDeclaration) {
    super();
    this.taskName = declared.taskName ?? '';
    this.prerequisites = declared.prerequisites ?? {};
    this.failedStatusMessage = declared.failedStatusMessage ?? '';
    // The settings the class overrides; the others keep the defaults every runner has.
    Object.assign(this, declared.settings ?? {});
    // `timeout_seconds` is its function's; its worker, which waits for the function, gets a margin more (and so do
    // the lease and the queue's visibility, which follow the worker's). In a container, it is the run's own
    // deadline, which the run (not a function) keeps: no margin.
    this.python = {
      file: declared.file,
      className: declared.className,
      timeoutSeconds: this.timeoutSeconds,
      ...(declared.problem ? { problem: declared.problem } : {}),
    };
    if (this.compute !== Compute.Container) Object.assign(this, { timeoutSeconds: this.timeoutSeconds + PYTHON_WORKER_MARGIN_SECONDS });
  }

  process(): never {
    throw new RunsInItsOwnFunctionError(`${this.python.className} (${this.python.file}) is a Python runner: its run happens in its own function`);
  }
}

export const isPythonRunner = (runner: AnyRunner): runner is PythonTransientRunner => runner instanceof PythonTransientRunner;
