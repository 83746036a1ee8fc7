/**
 * The Lambda SQS event source mapping, emulated: receive a batch, invoke the handler with an SQSEvent,
 * delete the records that succeeded (partial batch responses), leave the rest to come back after their
 * visibility timeout (and to the dead-letter queue after maxReceiveCount). One poller long-polls, for up
 * to 20 s as Lambda's pollers do, and takes up to a batch as soon as there are messages; while messages
 * keep coming, more pollers join, up to the maximum concurrency.
 */
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { setMaxListeners } from 'node:events';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext, withTimeout } from './lambda-context';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface EventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly functionName: string;
  readonly handler: SqsHandler;
  readonly batchSize: number;
  readonly maxConcurrency: number;
  readonly timeoutMs: number;
  readonly memoryMb?: number;
  /** Called after each invocation (for progress and tests). */
  readonly onInvocation?: (outcome: { records: number; failed: number; error?: Error }) => void;
}

const toRecord = (message: Message, queueArn: string): SQSRecord => ({
  messageId: message.MessageId ?? '',
  receiptHandle: message.ReceiptHandle ?? '',
  body: message.Body ?? '',
  attributes: {
    ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
    SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
    SenderId: message.Attributes?.SenderId ?? 'local',
    ApproximateFirstReceiveTimestamp: message.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  },
  messageAttributes: {},
  md5OfBody: message.MD5OfBody ?? '',
  eventSource: 'aws:sqs',
  eventSourceARN: queueArn,
  awsRegion: 'us-east-1',
});

/** SQS's longest wait; the emulator ends the poll when it is aborted (see sqs-emulator-process.ts). */
const LONG_POLL_SECONDS = 20;

export class SqsEventSource {
  private running = false;
  private pollers = 0;
  /** Pollers inside an invocation, not receiving. */
  private invoking = 0;
  private readonly loops = new Set<Promise<void>>();
  /** Ends the long polls in flight when the source stops. */
  private polls = new AbortController();

  constructor(private readonly options: EventSourceOptions) {}

  start(): void {
    this.running = true;
    this.polls = new AbortController();
    // Every poller's receive listens to it; up to the maximum concurrency of them at once.
    setMaxListeners(this.options.maxConcurrency + 1, this.polls.signal);
    this.spawn(true);
  }

  /** Stops polling and waits for the invocations in flight to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.polls.abort();
    await Promise.all([...this.loops]);
  }

  private spawn(leader: boolean): void {
    this.pollers++;
    const loop = this.poll(leader).finally(() => this.loops.delete(loop));
    this.loops.add(loop);
  }

  private async poll(startAsLeader: boolean): Promise<void> {
    const { sqs, queueUrl, batchSize } = this.options;
    let leader = startAsLeader;
    try {
      while (this.running) {
        let messages: Message[];
        try {
          const result = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: queueUrl,
              // The leader waits for messages, helpers do not; either takes what is there at once, up to a batch.
              MaxNumberOfMessages: batchSize,
              WaitTimeSeconds: leader ? LONG_POLL_SECONDS : 0,
              // The emulator reads the older parameter name for system attributes.
              AttributeNames: ['All'],
              MessageSystemAttributeNames: ['All'],
            }),
            { abortSignal: this.polls.signal },
          );
          messages = result.Messages ?? [];
        } catch {
          if (!this.running) return;
          await new Promise((resolve) => setTimeout(resolve, 200));
          continue;
        }
        if (messages.length === 0) {
          // As Lambda's event source keeps polling while invocations run, exactly one poller stays when
          // the queue is empty: the last one not invoking (which, during a long run, is not the first one).
          if (this.pollers - this.invoking <= 1) {
            leader = true;
            continue;
          }
          return;
        }
        if (this.pollers < this.options.maxConcurrency) this.spawn(false);
        this.invoking++;
        try {
          await this.invoke(messages);
        } finally {
          this.invoking--;
        }
      }
    } finally {
      // Counted down at once (not in a later callback), so two pollers leaving together see each other go.
      this.pollers--;
    }
  }

  private async invoke(messages: Message[]): Promise<void> {
    const { sqs, queueUrl, queueArn, functionName, handler, timeoutMs, memoryMb, onInvocation } = this.options;
    const records = messages.map((message) => toRecord(message, queueArn));
    let failedIds: Set<string>;
    let error: Error | undefined;
    try {
      const response = await withTimeout(handler({ Records: records }, lambdaContext(functionName, timeoutMs, memoryMb)), timeoutMs);
      failedIds = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (thrown) {
      // A thrown error or a timeout fails the whole batch: every record comes back after its visibility timeout.
      error = thrown instanceof Error ? thrown : new Error(String(thrown));
      failedIds = new Set(records.map((record) => record.messageId));
    }
    const done = messages.filter((message) => !failedIds.has(message.MessageId ?? ''));
    if (done.length > 0) {
      await sqs
        .send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' })),
          }),
        )
        .catch(() => undefined);
    }
    onInvocation?.({ records: records.length, failed: failedIds.size, ...(error ? { error } : {}) });
  }
}
