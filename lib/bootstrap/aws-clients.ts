/**
 * How the handlers' AWS SDK clients retry: the SDK's standard strategy (exponential backoff with jitter,
 * a longer base for throttling, and a per-client retry quota that stops retrying when most calls fail),
 * a bounded number of attempts, and request timeouts so that a call that hangs is retried rather than
 * eating the function's time. Each call's extra attempts are counted in the metrics.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { isThrottlingError } from '@smithy/core/retry';
import { Metric, type TaskMetrics } from '../engine/telemetry';

/** Attempts per AWS call, the first included. */
export const AWS_MAX_ATTEMPTS = 5;

export const awsClientConfig = {
  maxAttempts: AWS_MAX_ATTEMPTS,
  retryMode: 'standard',
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
} as const;

/** A write that may or may not have landed (a timeout, a server error), and that must not be sent again. */
export class AmbiguousWriteError extends Error {
  readonly $metadata = {};
  /** What the SDK saw. Not the error's `cause`: the SDK's retry strategy looks through causes for transient errors. */
  readonly original: unknown;
  constructor(original: unknown) {
    super(`the write may or may not have landed, and is not sent again: ${original instanceof Error ? `${original.name}: ${original.message}` : String(original)}`);
    this.name = 'AmbiguousWriteError';
    this.original = original;
  }
}

/** The name under which retryOnlyThrottling sits in a client's stack (the chaos layer goes inside it). */
export const RETRY_ONLY_THROTTLING = 'retryOnlyThrottling';

/**
 * Calls `applies` picks are retried by the SDK only after throttling, which AWS refused before doing anything: a
 * timeout or a server error may have landed, so the call fails with AmbiguousWriteError instead of being sent
 * again. For writes that must never land twice and cannot be conditioned (the counters' ADDs). Placed inside the
 * SDK's retry loop, where its strategy reads the error.
 */
export const retryOnlyThrottling = (client: DynamoDBClient, applies: (commandName: string, input: unknown) => boolean): void => {
  client.middlewareStack.addRelativeTo(
    ((next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: unknown }) => {
      try {
        return await next(args);
      } catch (error) {
        if (!applies(context.commandName ?? '', args.input) || isThrottlingError(error as Parameters<typeof isThrottlingError>[0])) throw error;
        throw new AmbiguousWriteError(error);
      }
    }) as never,
    { relation: 'after', toMiddleware: 'retryMiddleware', name: RETRY_ONLY_THROTTLING, override: true },
  );
};

const attemptsOf = (value: unknown): number => {
  if (typeof value !== 'object' || value === null || !('$metadata' in value)) return 1;
  const metadata = value.$metadata;
  return typeof metadata === 'object' && metadata !== null && 'attempts' in metadata && typeof metadata.attempts === 'number' ? metadata.attempts : 1;
};

/** Counts the retries of every call made through `client` as metric AwsRetries with dimension `service`. */
export const countRetries = (client: DynamoDBClient | SQSClient, service: 'DynamoDB' | 'SQS', metrics: TaskMetrics): void => {
  const record = (attempts: number) => {
    if (attempts > 1) metrics.add(service, Metric.AwsRetries, attempts - 1);
  };
  (client as DynamoDBClient).middlewareStack.add(
    (next) => async (args) => {
      try {
        const result = await next(args);
        record(attemptsOf(result.output));
        return result;
      } catch (error) {
        record(attemptsOf(error));
        throw error;
      }
    },
    { step: 'initialize', name: 'countRetries', override: true },
  );
};
