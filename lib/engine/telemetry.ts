/**
 * Structured logs (Powertools Logger) and metrics in Embedded Metric Format (Powertools Metrics), with the
 * task as the dimension. One Metrics instance per task aggregates an invocation into one EMF document.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, LogItemExtraInput } from '@aws-lambda-powertools/logger/types';
import type { TaskLogger } from '../runner';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';

export const METRICS_NAMESPACE = 'BlastTaskRunners';

/**
 * The `service` dimension of every log line and metric, one per handler. The stack sets the same value as
 * POWERTOOLS_SERVICE_NAME and reads these metrics back by it for the dashboard and alarms.
 */
export const ServiceName = {
  Dispatcher: 'dispatcher',
  TransientWorker: 'transient-worker',
  SystemWorker: 'system-worker',
  DeadLetter: 'dead-letter',
  /** A container run of a long task (functions/container-run.ts). */
  ContainerRun: 'container-run',
  /** The web view's API (functions/web-api.ts, and the local runtime's web server). */
  WebApi: 'web-api',
} as const;
export type ServiceName = (typeof ServiceName)[keyof typeof ServiceName];

export const Metric = {
  /** Messages the dispatcher sent from the ready index. */
  Dispatched: 'Dispatched',
  /** Ready-index items the dispatcher read (read amplification = ReadyRead / Dispatched). */
  ReadyRead: 'ReadyRead',
  /** Successors sent at once by the worker that finished their last prerequisite. */
  Chained: 'Chained',
  Claimed: 'Claimed',
  /** Runs that ended in a success-type status. */
  CompletedSuccess: 'CompletedSuccess',
  /** Runs that ended in an error-type status (the science said no, or the runner failed). */
  CompletedError: 'CompletedError',
  /** Runner exceptions (each retried until maxReceiveCount). */
  Failures: 'Failures',
  Retries: 'Retries',
  Duration: 'Duration',
  /** Deliveries dropped because the task was already claimed, finished or not ready. */
  DuplicatesDropped: 'DuplicatesDropped',
  /** Completions refused because a reset or a takeover replaced their claim. */
  StaleCompletions: 'StaleCompletions',
  DeadLettered: 'DeadLettered',
  /** Unreadable messages, or for an unknown runner or transient, moved to the dead-letter queue at once. */
  PoisonMessages: 'PoisonMessages',
  /** Extra attempts the AWS SDK made (throttling, timeouts), with the service (DynamoDB, SQS) as the dimension. */
  AwsRetries: 'AwsRetries',
  /** Time from a task becoming ready to its claim. */
  ReadyToClaim: 'ReadyToClaim',
  Ingested: 'Ingested',
  TransientsCompleted: 'TransientsCompleted',
  TransientsBlocked: 'TransientsBlocked',
  /** Counter moves that failed (a timeout or an outage after the state write); the recount repairs them. */
  CountMovesLost: 'CountMovesLost',
  /** Known transients whose data changed (TNS revised them). */
  Updated: 'Updated',
  /** Registers sent back to "not processed" because coordinates or redshift changed. */
  TasksReset: 'TasksReset',
  /** Runs handed over to a container (compute: 'container'). */
  ContainerRunsStarted: 'ContainerRunsStarted',
  /** Heartbeats of container runs that could not extend their lease or their message's visibility (the next one tries again). */
  HeartbeatsMissed: 'HeartbeatsMissed',
} as const;
export type Metric = (typeof Metric)[keyof typeof Metric];

export type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];
const units: Readonly<Partial<Record<string, Unit>>> = {
  [Metric.Duration]: MetricUnit.Milliseconds,
  [Metric.ReadyToClaim]: MetricUnit.Milliseconds,
};

export const createLogger = (serviceName: string) => new Logger({ serviceName });

/**
 * The logger with `keys` on every line: what a child logger gives, without building one for every message
 * a worker handles (a child copies the whole logger).
 */
export const withKeys = (logger: Logger, keys: LogAttributes): TaskLogger => {
  // A lone error or string is logged under the key Powertools gives it on its own.
  const attributes = (extra: LogItemExtraInput): LogAttributes[] => {
    const [first] = extra;
    if (first instanceof Error) return [keys, { error: first }];
    if (typeof first === 'string') return [keys, { extra: first }];
    return [keys, ...(extra as LogAttributes[])];
  };
  return {
    debug: (message, ...extra) => logger.debug(message, ...attributes(extra)),
    info: (message, ...extra) => logger.info(message, ...attributes(extra)),
    warn: (message, ...extra) => logger.warn(message, ...attributes(extra)),
    error: (message, ...extra) => logger.error(message, ...attributes(extra)),
  };
};

export class TaskMetrics {
  private readonly byTask = new Map<string, Metrics>();
  private readonly pending = new Set<Metrics>();

  constructor(private readonly serviceName: string) {}

  /** Adds a value to a metric of the task; system runners may name their own metrics. */
  add(task: string, metric: Metric | (string & {}), value = 1, unit?: Unit): void {
    let metrics = this.byTask.get(task);
    if (!metrics) {
      metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: this.serviceName, defaultDimensions: { task } });
      this.byTask.set(task, metrics);
    }
    metrics.addMetric(metric, unit ?? units[metric] ?? MetricUnit.Count, value);
    this.pending.add(metrics);
  }

  /** Flushes the metrics recorded since the last call as EMF; called once at the end of each invocation. */
  publish(): void {
    for (const metrics of this.pending) metrics.publishStoredMetrics();
    this.pending.clear();
  }
}
