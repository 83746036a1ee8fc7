/**
 * The SQS emulator as the local runtime starts it, with the corrections of patches/ (see patches/README.md),
 * each tested here by a case that fails without it: a retry's visibility change is not counted as a receive, a
 * long poll whose caller has gone takes no message, and a receive answers as soon as it has messages.
 */
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { localClientConfig } from '../../lib/local/services';

describe('Integration: the SQS emulator', () => {
  const sqs = new SQSClient(localClientConfig(inject('sqsEndpoint')));
  let queueUrl: string;

  const receive = (waitSeconds: number, abortSignal?: AbortSignal, maxMessages = 1) =>
    sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: waitSeconds,
        MaxNumberOfMessages: maxMessages,
        MessageSystemAttributeNames: ['All'],
        AttributeNames: ['All'],
      }),
      { abortSignal },
    );

  // A queue of its own for each test: a message one test leaves hidden must not reach the next.
  let queues = 0;
  beforeEach(async () => {
    queues += 1;
    const created = await sqs.send(
      new CreateQueueCommand({ QueueName: `emulator-${Date.now().toString(36)}-${queues}`, Attributes: { VisibilityTimeout: '30' } }),
    );
    queueUrl = created.QueueUrl ?? '';
  });
  afterEach(() => sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })));
  afterAll(() => sqs.destroy());

  it('ends a long poll whose caller went away, so the next message goes to the next receive', async () => {
    // Prepare: a long poll, abandoned as the event source abandons its polls when it stops
    const abandoned = new AbortController();
    const poll = receive(20, abandoned.signal).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 300));
    abandoned.abort();
    expect(await poll).toMatchObject({ name: 'AbortError' });
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Act
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'after the abandoned poll' }));
    const next = await receive(2);

    // Assess: uncorrected, the abandoned poll hides the message for its 30 s visibility timeout
    expect(next.Messages?.map((message) => message.Body)).toEqual(['after the abandoned poll']);
    expect(next.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('1');
  });

  it('counts receives only, not the visibility changes of retries', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'retried' }));
    const first = await receive(2);
    const handle = first.Messages?.[0]?.ReceiptHandle;
    expect(first.Messages?.[0]?.Body).toBe('retried');

    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }));
    const second = await receive(2);

    expect(second.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
  });

  it('answers a long poll for a batch as soon as a message is there', async () => {
    const poll = receive(20, undefined, 10);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const sent = Date.now();
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'one of ten' }));

    const { Messages } = await poll;

    expect(Messages?.map((message) => message.Body)).toEqual(['one of ten']);
    // Uncorrected, it waits out the 20 s for nine more.
    expect(Date.now() - sent).toBeLessThan(5_000);
  });
});
