/**
 * Queue and event-source settings derived from a runner, used alike by the stack and the local runtime so
 * that both behave the same (principle 7).
 */
import { CONTAINER_WORKER_TIMEOUT_SECONDS, Compute } from '../domain/compute';
import { VISIBILITY_TIMEOUT_FACTOR, visibilityTimeoutSeconds } from '../domain/time';
import type { TransientTaskRunner } from '../runner';
import { deadLetterSettings } from '../settings/framework-functions';

/** Keep messages (and dead letters) the longest SQS allows, so no waiting work expires. */
export const RETENTION_SECONDS = 14 * 24 * 3600;

export interface QueueSettings {
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  readonly batchSize: number;
  readonly maxConcurrency: number;
  readonly functionTimeoutSeconds: number;
  readonly retentionSeconds: number;
}

/**
 * The timeout of a runner's worker function: the runner's own, or, for a runner whose runs happen in a container,
 * the short one of a worker that only claims and starts the run (the run's own timeout can be hours).
 */
export const workerTimeoutSeconds = (runner: TransientTaskRunner): number =>
  runner.compute === Compute.Container ? CONTAINER_WORKER_TIMEOUT_SECONDS : runner.timeoutSeconds;

export const queueSettings = (runner: TransientTaskRunner): QueueSettings => ({
  visibilityTimeoutSeconds: visibilityTimeoutSeconds(workerTimeoutSeconds(runner)),
  maxReceiveCount: runner.maxReceiveCount,
  batchSize: runner.batchSize,
  maxConcurrency: runner.maxConcurrency,
  functionTimeoutSeconds: workerTimeoutSeconds(runner),
  retentionSeconds: RETENTION_SECONDS,
});

/**
 * A runner's dead-letter queue, consumed by the dead-letter handler: its visibility follows that
 * function's timeout by the same rule.
 */
export const deadLetterQueueSettings = (handlerTimeoutSeconds: number = deadLetterSettings.timeoutSeconds) => ({
  visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_FACTOR * handlerTimeoutSeconds,
  retentionSeconds: RETENTION_SECONDS,
  maxReceiveCount: deadLetterSettings.maxReceiveCount,
});

/** 'Global aperture photometry' → 'global-aperture-photometry', for queue and function names. */
export const slug = (task: string): string =>
  task
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
