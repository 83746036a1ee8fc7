/**
 * The Lambda SQS event source mapping, emulated: receive a batch, invoke the handler with an SQSEvent,
 * delete the records that succeeded (partial batch responses), leave the rest to come back after their
 * visibility timeout (and to the dead-letter queue after maxReceiveCount). One poller long-polls, for up
 * to 20 s as Lambda's pollers do, and takes up to a batch as soon as there are messages; while messages
 * keep coming, more pollers join, up to the maximum concurrency.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext, withTimeout } from './lambda-context';

/** The event source mapping's own faults (the chaos suite's), decided per batch. */
export type EventSourceFault = 'duplicate-invocation' | 'repeated-batch' | 'visibility-expiry';

export interface EventSourceFaults {
  /** Which fault, if any, hits this batch. */
  batchFault(queue: string, messages: readonly { readonly body: string | undefined; readonly receiveCount: number }[]): EventSourceFault | string | undefined;
  /** Told of every message the event source deletes (by id), before it deletes them. */
  deleted(messageIds: readonly (string | undefined)[], at: number): void;
}

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
  /** Runs each invocation, e.g. inside an invocation context that a fault can kill. @default runs it as it is */
  readonly runInvocation?: <T>(work: () => Promise<T>) => Promise<T>;
  /** Faults of the event source itself (the chaos suite). */
  readonly faults?: EventSourceFaults;
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

/** SQS's longest wait; the emulator ends the poll when it is aborted (a correction of patches/local-aws-sqs+2.0.2.patch). */
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

  /** One invocation of the handler with these records; returns the ids it did not finish (all of them if it failed). */
  private async invokeOnce(records: SQSRecord[]): Promise<{ failedIds: Set<string>; error?: Error }> {
    const { functionName, handler, timeoutMs, memoryMb, runInvocation } = this.options;
    try {
      const call = () => handler({ Records: records }, lambdaContext(functionName, timeoutMs, memoryMb));
      const response = await withTimeout(runInvocation ? runInvocation(call) : call(), timeoutMs);
      return { failedIds: new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier)) };
    } catch (thrown) {
      // A thrown error, a timeout or a killed process fails the whole batch: every record comes back after its visibility timeout.
      return { failedIds: new Set(records.map((record) => record.messageId)), error: thrown instanceof Error ? thrown : new Error(String(thrown)) };
    }
  }

  /** Deletes the messages whose records succeeded (partial batch responses). */
  private async deleteDone(messages: readonly Message[], failedIds: ReadonlySet<string>): Promise<void> {
    const { sqs, queueUrl, faults } = this.options;
    const done = messages.filter((message) => !failedIds.has(message.MessageId ?? ''));
    if (done.length === 0) return;
    faults?.deleted(
      done.map((message) => message.MessageId),
      Date.now(),
    );
    await sqs
      .send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' })),
        }),
      )
      .catch(() => undefined);
  }

  private async invoke(messages: Message[]): Promise<void> {
    const { sqs, queueUrl, queueArn, onInvocation, faults } = this.options;
    const records = messages.map((message) => toRecord(message, queueArn));
    const fault = faults?.batchFault(
      queueArn,
      messages.map((message) => ({ body: message.Body, receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1) })),
    );
    let outcome: { failedIds: Set<string>; error?: Error };
    if (fault === 'duplicate-invocation') {
      // Lambda's event source is at least once: the identical batch may go to two invocations at once.
      const [first, second] = await Promise.all([this.invokeOnce(records), this.invokeOnce(records)]);
      outcome = { failedIds: new Set([...first.failedIds].filter((id) => second.failedIds.has(id))), ...(first.error ? { error: first.error } : {}) };
    } else if (fault === 'visibility-expiry') {
      // The batch's visibility runs out while the run goes on: SQS delivers its messages again, to other pollers.
      const running = this.invokeOnce(records);
      await sleep(100);
      await Promise.all(
        messages.map((message) =>
          sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle ?? '', VisibilityTimeout: 0 })).catch(() => undefined),
        ),
      );
      outcome = await running;
    } else {
      outcome = await this.invokeOnce(records);
    }
    await this.deleteDone(messages, outcome.failedIds);
    if (fault === 'repeated-batch') {
      // The same batch, invoked again after the first invocation returned (its receipt handles are stale by now).
      const again = await this.invokeOnce(records);
      await this.deleteDone(messages, again.failedIds);
    }
    onInvocation?.({ records: records.length, failed: outcome.failedIds.size, ...(outcome.error ? { error: outcome.error } : {}) });
  }
}
