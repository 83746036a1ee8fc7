/**
 * The SQS adapter: one queue per transient runner. Sends in batches of ten (SendMessageBatch), retries the
 * entries SQS refused, and reports what still failed so that the caller keeps that work's ready marker.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, SQSClient, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { TaskMessage } from '../domain/messages';
import type { TaskQueues } from '../engine/queues';

/** Counts SQS requests in 64 KB billing chunks (for the benchmark's cost figures). */
export interface QueueMeter {
  request(operation: string, chunks: number): void;
}

/** SQS bills each 64 KB chunk of a request's payload as one request. */
export const billingChunks = (bytes: number) => Math.max(1, Math.ceil(bytes / 65536));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The name at the end of a queue's URL or ARN. */
export const queueNameOf = (urlOrArn: string) => urlOrArn.slice(Math.max(urlOrArn.lastIndexOf('/'), urlOrArn.lastIndexOf(':')) + 1);

export const taskQueues = (
  sqs: SQSClient,
  urls: Readonly<Record<string, string>>,
  meter?: QueueMeter,
  /** Task → URL of its queue's dead-letter queue, where poison messages go at once. */
  deadLetterUrls: Readonly<Record<string, string>> = {},
): TaskQueues => {
  const urlOf = (task: string) => urls[task];

  /** Sends the messages to the task's queue; returns those that could not be sent. */
  const send = async (task: string, messages: readonly TaskMessage[]): Promise<TaskMessage[]> => {
    const QueueUrl = urlOf(task);
    if (!QueueUrl) return [...messages];
    const failed: TaskMessage[] = [];
    const batches: TaskMessage[][] = [];
    for (let i = 0; i < messages.length; i += 10) batches.push(messages.slice(i, i + 10));
    await Promise.all(
      batches.map(async (batch) => {
        let pending = batch;
        for (let attempt = 0; pending.length > 0 && attempt < 3; attempt++) {
          if (attempt > 0) await pause(50 * 2 ** attempt);
          const entries = pending.map((message, index) => ({ Id: String(index), MessageBody: JSON.stringify(message) }));
          meter?.request('SendMessageBatch', billingChunks(entries.reduce((sum, entry) => sum + entry.MessageBody.length, 0)));
          const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }));
          const refused = new Set((result.Failed ?? []).map((entry) => Number(entry.Id)));
          pending = pending.filter((_, index) => refused.has(index));
        }
        failed.push(...pending);
      }),
    );
    return failed;
  };

  return {
    has: (task: string) => urlOf(task) !== undefined,
    send,
    /** Hides a received message for `seconds` before SQS delivers it again (the retry backoff). */
    async retryLater(task: string, receiptHandle: string, seconds: number): Promise<void> {
      const QueueUrl = urlOf(task);
      if (!QueueUrl) return;
      meter?.request('ChangeMessageVisibility', 1);
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: Math.round(seconds) }));
    },
    async acknowledge(task: string, receiptHandle: string): Promise<void> {
      const QueueUrl = urlOf(task);
      if (!QueueUrl) return;
      meter?.request('DeleteMessage', 1);
      await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: receiptHandle }));
    },
    /**
     * Sends a message as it is to the dead-letter queue of the queue it came from (by ARN). Returns that
     * queue's task, or undefined when no dead-letter queue is configured for it.
     */
    async deadLetter(sourceArn: string, body: string): Promise<string | undefined> {
      const source = queueNameOf(sourceArn);
      const task = Object.keys(urls).find((candidate) => queueNameOf(urls[candidate] ?? '') === source);
      const QueueUrl = task === undefined ? undefined : deadLetterUrls[task];
      if (task === undefined || QueueUrl === undefined) return undefined;
      meter?.request('SendMessage', billingChunks(body.length));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
      return task;
    },
  };
};
