/**
 * Queue and event-source settings derived from a runner, used alike by the stack and the local runtime so
 * that both behave the same (principle 7).
 */
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

export const queueSettings = (runner: TransientTaskRunner): QueueSettings => ({
  visibilityTimeoutSeconds: visibilityTimeoutSeconds(runner.timeoutSeconds),
  maxReceiveCount: runner.maxReceiveCount,
  batchSize: runner.batchSize,
  maxConcurrency: runner.maxConcurrency,
  functionTimeoutSeconds: runner.timeoutSeconds,
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
