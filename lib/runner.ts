/**
 * The runner API, Blast's in TypeScript. A transient runner declares the task it works on, its
 * prerequisites, the status to record when it throws, and the processing of one transient; a system
 * runner does work that belongs to no transient. Everything around them (claims, statuses, queues,
 * schedules) is the framework's.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Prerequisites } from './domain/workflow';

/** A transient as the runners see it (Blast's `Transient` model, camelCased). */
export interface Transient {
  readonly name: string;
  readonly raDeg: number;
  readonly decDeg: number;
  /** ISO 8601; oldest first is Blast's priority. */
  readonly publicTimestamp: string;
  readonly redshift?: number;
  readonly spectroscopicClass?: string;
}

/** The logger methods runners use: Powertools' structured JSON logger, keyed with transient and task. */
export type TaskLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface TaskContext {
  /** 1 on the first delivery, then the SQS receive count. */
  readonly attempt: number;
  /** Aborted shortly before the function's timeout, so long work can stop cleanly. */
  readonly signal: AbortSignal;
  readonly logger: TaskLogger;
  /** What an earlier task saved for this transient (undefined if it saved nothing). */
  output<T extends object = Record<string, unknown>>(task: string): Promise<T | undefined>;
  /** Stores this task's results for later tasks; a later save replaces an earlier one. */
  save(data: Record<string, unknown>): Promise<void>;
}

export interface IngestSummary {
  readonly created: number;
  readonly existing: number;
}

export interface SystemTaskContext {
  readonly signal: AbortSignal;
  readonly logger: TaskLogger;
  /** Adds transients with every task "not processed"; ones already known are left as they are. */
  ingest(transients: readonly Transient[]): Promise<IngestSummary>;
}

/** Settings every runner may override; the defaults are Blast's and the stack's. */
abstract class TaskRunner {
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

export abstract class TransientTaskRunner extends TaskRunner {
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

  /** Blast: `_run_process(transient)`. Returns a status message of the fixtures. */
  abstract process(transient: Transient, context: TaskContext): Promise<string> | string;
}

export abstract class SystemTaskRunner extends TaskRunner {
  /** Blast: `run_process()`. */
  abstract process(context: SystemTaskContext): Promise<void> | void;
}

export type AnyRunner = TransientTaskRunner | SystemTaskRunner;

export const isTransientRunner = (runner: AnyRunner): runner is TransientTaskRunner =>
  runner instanceof TransientTaskRunner;
