/**
 * Queue and event-source settings derived from a runner, used alike by the stack and the local runtime so
 * that both behave the same (principle 7).
 */
import { MAX_CLOCK_SKEW_MS } from '../domain/time';
import type { TransientTaskRunner } from '../runner';
import { deadLetterSettings } from '../settings/framework-functions';

/** AWS's advice: a queue's visibility timeout at least six times its consumer function's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/**
 * And long enough, past the function's timeout, that a redelivered message finds its dead run's lease over
 * whatever the clocks: the lease has the tolerated skew added, and the redelivering host may be that much behind.
 */
export const minimumVisibilitySeconds = (timeoutSeconds: number) => timeoutSeconds + Math.ceil((3 * MAX_CLOCK_SKEW_MS) / 1000);
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
  visibilityTimeoutSeconds: Math.min(43_200, Math.max(VISIBILITY_TIMEOUT_FACTOR * runner.timeoutSeconds, minimumVisibilitySeconds(runner.timeoutSeconds))),
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
