/**
 * Creates the table and the queues a registry needs, with the settings the stack gives them: one queue
 * and one dead-letter queue per transient runner, redrive after maxReceiveCount, visibility six times
 * the function's timeout. Returns the environment the handlers read.
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from '../settings/config';
import { type QueueSettings, deadLetterQueueSettings, queueSettings, slug } from '../queue/queue-settings';
import { type AnyRunner, isTransientRunner } from '../runner';
import { DEAD_LETTER_FAILURES_QUEUE } from '../settings/framework-functions';
import { createTableInput } from '../store/dynamodb/table';

export interface LocalQueue {
  readonly task: string;
  readonly url: string;
  readonly arn: string;
  readonly deadLetterUrl: string;
  readonly deadLetterArn: string;
  readonly settings: QueueSettings;
}

export interface LocalResources {
  readonly tableName: string;
  readonly queues: readonly LocalQueue[];
  /** Where the dead-letter queues send what the dead-letter handler could not record. */
  readonly deadLetterFailuresUrl: string;
  /** TABLE_NAME, TASK_QUEUE_URLS, TASK_DEAD_LETTER_QUEUE_ARNS and TASK_DEAD_LETTER_QUEUE_URLS for the handlers. */
  readonly env: Record<string, string>;
}

const queueArn = async (sqs: SQSClient, QueueUrl: string): Promise<string> => {
  const result = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const arn = result.Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${QueueUrl} has no ARN`);
  return arn;
};

export const createResources = async (
  dynamo: DynamoDBClient,
  sqs: SQSClient,
  runners: readonly AnyRunner[],
  prefix: string,
  /** The dead-letter handler's timeout, which its queues' visibility follows. @default deadLetterSettings.timeoutSeconds */
  deadLetterTimeoutSeconds?: number,
): Promise<LocalResources> => {
  const tableName = `${prefix}-tasks`;
  await dynamo.send(new CreateTableCommand(createTableInput(tableName)));
  const deadLetterSettings = deadLetterQueueSettings(deadLetterTimeoutSeconds);
  const failures = await sqs.send(
    new CreateQueueCommand({ QueueName: `${prefix}-${DEAD_LETTER_FAILURES_QUEUE}`, Attributes: { MessageRetentionPeriod: String(deadLetterSettings.retentionSeconds) } }),
  );
  const deadLetterFailuresUrl = failures.QueueUrl ?? '';
  const failuresArn = await queueArn(sqs, deadLetterFailuresUrl);
  const queues = await Promise.all(
    runners.filter(isTransientRunner).map(async (runner): Promise<LocalQueue> => {
      const settings = queueSettings(runner);
      const name = `${prefix}-${slug(runner.taskName)}`;
      const retention = String(settings.retentionSeconds);
      const deadLetter = await sqs.send(
        new CreateQueueCommand({
          QueueName: `${name}-dlq`,
          Attributes: {
            VisibilityTimeout: String(deadLetterSettings.visibilityTimeoutSeconds),
            MessageRetentionPeriod: String(deadLetterSettings.retentionSeconds),
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: failuresArn, maxReceiveCount: deadLetterSettings.maxReceiveCount }),
          },
        }),
      );
      const deadLetterUrl = deadLetter.QueueUrl ?? '';
      const deadLetterArn = await queueArn(sqs, deadLetterUrl);
      const queue = await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
            MessageRetentionPeriod: retention,
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: settings.maxReceiveCount }),
          },
        }),
      );
      const url = queue.QueueUrl ?? '';
      return { task: runner.taskName, url, arn: await queueArn(sqs, url), deadLetterUrl, deadLetterArn, settings };
    }),
  );
  return {
    tableName,
    queues,
    deadLetterFailuresUrl,
    env: {
      [ENV.tableName]: tableName,
      [ENV.queueUrls]: JSON.stringify(Object.fromEntries(queues.map((queue) => [queue.task, queue.url]))),
      [ENV.deadLetterQueues]: JSON.stringify(Object.fromEntries(queues.map((queue) => [queue.task, queue.deadLetterArn]))),
      [ENV.deadLetterQueueUrls]: JSON.stringify(Object.fromEntries(queues.map((queue) => [queue.task, queue.deadLetterUrl]))),
    },
  };
};
