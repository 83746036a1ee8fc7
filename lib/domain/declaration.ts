/**
 * What a runner declares: its task, its settings (Blast's defaults), its prerequisites and failed status for a
 * transient runner, what it uses for a system runner. The registry's validation, the stack and the engine read
 * these. The runner API (lib/runner.ts) builds its classes on them and adds what a runner does (`process`) and
 * the context it receives; the domain imports nothing of it.
 */
import { Compute } from './compute';
import type { Prerequisites } from './workflow';

/** Transient data a runner may read; a change to it resets the runners that declare it, and their successors. */
export const TransientField = {
  /** raDeg and decDeg. */
  Coordinates: 'coordinates',
  Redshift: 'redshift',
} as const;
export type TransientField = (typeof TransientField)[keyof typeof TransientField];
export const transientFields = Object.values(TransientField);

/** What a runner does with the scratch data (the stack grants exactly these on the scratch prefix). */
export const ScratchAccess = {
  /** s3:ListBucket on the prefix. */
  List: 'list',
  /** s3:GetObject. */
  Read: 'read',
  /** s3:PutObject. */
  Write: 'write',
  /** s3:DeleteObject. */
  Delete: 'delete',
} as const;
export type ScratchAccess = (typeof ScratchAccess)[keyof typeof ScratchAccess];

/**
 * What a system runner does with the transients (the context methods it calls). The stack grants each
 * one's table actions and queues, and the engine refuses a call the runner does not declare.
 */
export const SystemCapability = {
  /** `context.ingest`: adds transients; their first tasks go out at once. */
  Ingest: 'ingest',
  /** `context.upsert`: adds transients and revises known ones, resetting and sending the affected tasks. */
  Upsert: 'upsert',
  /** `context.counts`: the transient counters. */
  Counts: 'counts',
  /** `context.processingStatuses`: the processing status of named transients. */
  ProcessingStatuses: 'processingStatuses',
  /** `context.readState` and `context.writeState`: the runner's checkpoint. */
  State: 'state',
  /** `context.recount`: recounts the transient counters from the processing-status index and repairs them. */
  Recount: 'recount',
  /**
   * `context.recoverStalled`: finds the tasks of "processing" transients that nothing will run any more (a run
   * that died after its message was deleted, a retry whose message is gone) and records them as ready.
   */
  Recover: 'recover',
  /** `context.pruneArtifacts`: deletes the artifacts of runs no register holds (ARTIFACT_LOCATION: list and delete). */
  PruneArtifacts: 'pruneArtifacts',
} as const;
export type SystemCapability = (typeof SystemCapability)[keyof typeof SystemCapability];

/**
 * Where a runner written in Python is (runners/python/): its file and class, whose declaration `npm run generate`
 * read (lib/generated/python-runners.ts), and what stopped it being read, if anything.
 */
export interface PythonSource {
  readonly file: string;
  readonly className: string;
  /** The problem the file or class has (an import error, a missing member, a declaration not read yet). */
  readonly problem?: string;
  /** The function's timeout, the runner's `timeout_seconds`; its worker's is longer (PYTHON_WORKER_MARGIN_SECONDS). */
  readonly timeoutSeconds: number;
}

/** Settings every runner may override; the defaults are Blast's and the stack's. */
abstract class TaskDeclaration {
  /** Blast: `task_name`. A task of fixtures/setup_tasks.yaml for a transient runner. */
  abstract readonly taskName: string;
  /** Blast: `task_frequency_seconds`; a whole number of minutes, as EventBridge schedules need. */
  readonly frequencySeconds: number = 60;
  /** Blast: `task_initially_enabled`; whether the schedule starts enabled. */
  readonly initiallyEnabled: boolean = true;
  /** Lambda memory in MB. */
  readonly memorySize: number = 512;
  /** Lambda timeout in seconds for one invocation (a whole SQS batch for transient runners). */
  readonly timeoutSeconds: number = 60;
  /**
   * Names of the Secrets Manager secrets the runner reads (e.g. the TNS bot's credentials). The stack grants
   * read access to exactly these and passes their ARNs; locally they come from environment variables.
   */
  readonly secretNames: readonly string[] = [];
}

/** What a transient runner declares (lib/runner.ts TransientTaskRunner adds `process`). */
export abstract class TransientTaskDeclaration extends TaskDeclaration {
  /** Blast: `_prerequisites()`. The task's own "not processed" is implied when left out. */
  abstract readonly prerequisites: Prerequisites;
  /** Blast: `_failed_status_message()`; an error-type status of fixtures/setup_status.yaml. */
  abstract readonly failedStatusMessage: string;
  /** Messages per Lambda invocation. */
  readonly batchSize: number = 10;
  /** Most concurrent invocations from the queue (2–1000): caps calls to rate-limited services. */
  readonly maxConcurrency: number = 10;
  /** Deliveries before a message goes to the dead-letter queue; exceptions are retried until then. */
  readonly maxReceiveCount: number = 3;
  /**
   * Partitions of this task's ready index. Only work that could not be sent at once waits there (new
   * transients, resets), so 1 suits most tasks; raise it for a first task that receives bulk ingests.
   */
  readonly readyShards: number = 1;
  /**
   * The transient data `process` reads directly. When TNS changes it, this task and every task after it
   * run again. Left out, a runner is taken to read both (safe: a change never leaves it stale).
   */
  readonly usesTransientFields: readonly TransientField[] = transientFields;
  /**
   * Whether `process` puts files (`context.artifacts.put`) or saves an output too large for an item (it goes to an
   * artifact). The stack lets only such runners write artifacts, under their own task's keys (and read them); a run
   * that puts without declaring it is refused (a NonRetryableTaskError: its failed status at once).
   */
  readonly usesArtifacts: boolean = false;
  /**
   * Whether `process` reads earlier tasks' artifacts (`context.artifacts.get/list` with a task), or an earlier
   * task's output that was too large for an item. The stack lets only such runners (and those that declare
   * `usesArtifacts`) read the artifacts; a run that reads without declaring it is refused, as a put is.
   */
  readonly readsArtifacts: boolean = false;
  /**
   * The task's version, recorded with every run; a result whose version is not the task's current one is stale
   * (lib/domain/staleness.ts), and so is every result downstream that used it. Declare it (`version = '2'`) to say
   * when a change matters; left out, it is the hash of the runner's own code (its source file, read by
   * `npm run generate` into lib/generated/runner-sources.ts, or a Python runner's file), set by the registry
   * (runners/versions.ts), so the local runtime and the deployed functions see the same one.
   */
  readonly version?: string;
  /** Set for a runner written in Python: its `_run_process` runs in its own function, not in this process. */
  readonly python?: PythonSource;
  /**
   * Where `process` runs: in the worker's Lambda function, or in a container of its own for work longer than Lambda
   * allows (lib/domain/compute.ts). For a container, `timeoutSeconds` is the run's and `memorySize` its Fargate task's.
   */
  readonly compute: Compute = Compute.Lambda;
  /** A container run extends its lease and its message's visibility this often (lib/domain/compute.ts). */
  readonly heartbeatSeconds: number = 60;
}

/** What a system runner declares (lib/runner.ts SystemTaskRunner adds `process`). */
export abstract class SystemTaskDeclaration extends TaskDeclaration {
  /** The context methods `process` calls beyond logs, metrics, secrets and scratch; the stack grants exactly these. */
  readonly uses: readonly SystemCapability[] = [];
  /** What the runner does with the scratch data (`context.scratch()`, SCRATCH_LOCATION); the stack grants exactly this. */
  readonly scratchAccess: readonly ScratchAccess[] = [];
}

export type AnyDeclaration = TransientTaskDeclaration | SystemTaskDeclaration;

export const isTransientDeclaration = (runner: AnyDeclaration): runner is TransientTaskDeclaration =>
  runner instanceof TransientTaskDeclaration;

/** Where a runner written in Python is; undefined for every other runner. */
export const pythonSourceOf = (runner: AnyDeclaration): PythonSource | undefined => (isTransientDeclaration(runner) ? runner.python : undefined);

/** What a task's runs do with the artifacts; the stack grants exactly this (lib/constructs/transient-runner.ts). */
export interface ArtifactUse {
  /** Its runner declares `usesArtifacts`: its runs put files under their own task's keys. */
  readonly writes: boolean;
  /** It writes, or declares `readsArtifacts`: its runs read artifacts (and outputs too large for an item). */
  readonly reads: boolean;
}

/** A runner's use of the artifacts, as it declares it. */
export const artifactUseOf = (runner: TransientTaskDeclaration): ArtifactUse => ({
  writes: runner.usesArtifacts,
  reads: runner.usesArtifacts || runner.readsArtifacts,
});

/** The version recorded for a runner that declares none and whose code hash is unknown (a runner outside the registry). */
export const UNVERSIONED = '0';
/** A code hash, as a version: short, since every register carries it. */
export const VERSION_HASH_LENGTH = 8;
/** Longest declared version: the register, rewritten at every claim and settle, carries it. */
export const MAX_VERSION_LENGTH = 16;

/** The version a transient runner's runs record (its declared one, or its code's hash, see `version`). */
export const taskVersionOf = (runner: TransientTaskDeclaration): string => runner.version ?? UNVERSIONED;
