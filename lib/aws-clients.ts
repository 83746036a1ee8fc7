/**
 * How the handlers' AWS SDK clients retry: the SDK's standard strategy (exponential backoff with jitter,
 * a longer base for throttling, and a per-client retry quota that stops retrying when most calls fail),
 * a bounded number of attempts, and request timeouts so that a call that hangs is retried rather than
 * eating the function's time. Each call's extra attempts are counted in the metrics.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Metric, type TaskMetrics } from './telemetry';

/** Attempts per AWS call, the first included. */
export const AWS_MAX_ATTEMPTS = 5;

export const awsClientConfig = {
  maxAttempts: AWS_MAX_ATTEMPTS,
  retryMode: 'standard',
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
} as const;

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
