/** The SQS adapter of the queue-depths port: GetQueueAttributes on a runner's queue and its dead-letter queue. */
import { GetQueueAttributesCommand, type QueueAttributeName, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueDepth, QueueDepths } from '../engine/queue-depths';

/** The SQS actions this adapter uses (for the function that reads the depths). */
export const QUEUE_DEPTH_ACTIONS = ['sqs:GetQueueAttributes'] as const;

const ATTRIBUTES: QueueAttributeName[] = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'];

const depthOf = async (sqs: SQSClient, url: string | undefined): Promise<QueueDepth | undefined> => {
  if (!url) return undefined;
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ATTRIBUTES }));
  const count = (key: QueueAttributeName) => Number(Attributes[key] ?? 0) || 0;
  return {
    visible: count('ApproximateNumberOfMessages'),
    inFlight: count('ApproximateNumberOfMessagesNotVisible'),
    delayed: count('ApproximateNumberOfMessagesDelayed'),
  };
};

/** Depths of the queues named by task (queue URLs and dead-letter queue URLs, as the configuration holds them). */
export const sqsQueueDepths = (
  sqs: SQSClient,
  queueUrls: Readonly<Record<string, string>>,
  deadLetterQueueUrls: Readonly<Record<string, string>> = {},
): QueueDepths => ({
  async of(task) {
    const [queue, deadLetterQueue] = await Promise.all([depthOf(sqs, queueUrls[task]), depthOf(sqs, deadLetterQueueUrls[task])]);
    return { ...(queue ? { queue } : {}), ...(deadLetterQueue ? { deadLetterQueue } : {}) };
  },
});
