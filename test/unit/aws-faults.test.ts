/**
 * The SDK-level layers on real AWS SDK clients whose HTTP handler is a stand-in: the retry budget and its
 * metric, throttling and lost responses inside the SDK's retry loop, and refused, duplicated and delayed
 * SendMessageBatch entries.
 */
import { createHash } from 'node:crypto';
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, ReceiptHandleIsInvalid, SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { AWS_MAX_ATTEMPTS, AmbiguousWriteError, countRetries, retryOnlyThrottling } from '../../lib/bootstrap/aws-clients';
import { documentClient } from '../../lib/bootstrap/create-engine';
import { injectSendFaults, instrumentClient } from '../../lib/chaos/inject';
import { isCounterWrite } from '../../lib/store/dynamodb';
import type { JournalEvent } from '../../lib/chaos/journal';
import { Fault, FaultPlan } from '../../lib/chaos/plan';
import { Metric, TaskMetrics } from '../../lib/engine/telemetry';

interface Exchange {
  readonly target: string;
  readonly body: Record<string, unknown>;
}

/** An HTTP handler that answers from `reply` and remembers every request. */
const standIn = (reply: (exchange: Exchange, index: number) => { status: number; body: unknown }) => {
  const exchanges: Exchange[] = [];
  const handler = {
    handle: async (request: { headers: Record<string, string>; body?: unknown }) => {
      const exchange = { target: request.headers['x-amz-target'] ?? '', body: JSON.parse(String(request.body ?? '{}')) as Record<string, unknown> };
      exchanges.push(exchange);
      const { status, body } = reply(exchange, exchanges.length - 1);
      return { response: { statusCode: status, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: Buffer.from(JSON.stringify(body)) } };
    },
  };
  return { handler, exchanges };
};

const config = { region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: AWS_MAX_ATTEMPTS } as const;
const journalOf = (events: JournalEvent[]) => ({ record: (event: JournalEvent) => events.push(event) });

describe('Function: countRetries', () => {
  it('counts the extra attempts of a throttled call in AwsRetries', async () => {
    // Prepare: DynamoDB throttles twice, then answers.
    const { handler, exchanges } = standIn((_exchange, index) =>
      index < 2 ? { status: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'slow down' } } : { status: 200, body: {} },
    );
    const client = new DynamoDBClient({ ...config, requestHandler: handler as never });
    const metrics = new TaskMetrics('test');
    const add = vi.spyOn(metrics, 'add');
    countRetries(client, 'DynamoDB', metrics);

    // Act
    const output = await documentClient(client).send(new GetCommand({ TableName: 't', Key: { pk: 'T#sn', sk: 'STATE' } }));

    // Assess
    expect(exchanges).toHaveLength(3);
    expect(output.$metadata.attempts).toBe(3);
    expect(add).toHaveBeenCalledWith('DynamoDB', Metric.AwsRetries, 2);
  });

  it(`gives up after ${AWS_MAX_ATTEMPTS} attempts and still counts the retries`, async () => {
    const { handler, exchanges } = standIn(() => ({ status: 400, body: { __type: 'ThrottlingException', message: 'slow down' } }));
    const client = new DynamoDBClient({ ...config, requestHandler: handler as never });
    const metrics = new TaskMetrics('test');
    const add = vi.spyOn(metrics, 'add');
    countRetries(client, 'DynamoDB', metrics);

    await expect(documentClient(client).send(new GetCommand({ TableName: 't', Key: { pk: 'T#sn', sk: 'STATE' } }))).rejects.toThrow('slow down');

    expect(exchanges).toHaveLength(AWS_MAX_ATTEMPTS);
    expect(add).toHaveBeenCalledWith('DynamoDB', Metric.AwsRetries, AWS_MAX_ATTEMPTS - 1);
  }, 60_000);
});

describe('Function: retryOnlyThrottling', () => {
  const counterAdd = new UpdateCommand({ TableName: 't', Key: { pk: 'COUNTS#3', sk: 'COUNTS' }, UpdateExpression: 'ADD #w :one', ExpressionAttributeNames: { '#w': 'waiting' }, ExpressionAttributeValues: { ':one': 1 } });
  const transientWrite = new UpdateCommand({ TableName: 't', Key: { pk: 'T#sn', sk: 'STATE' }, UpdateExpression: 'ADD #v :one', ExpressionAttributeNames: { '#v': 'ver' }, ExpressionAttributeValues: { ':one': 1 } });
  const timeoutOnce = () => standIn((_exchange, index) => (index === 0 ? { status: 500, body: { __type: 'InternalServerError', message: 'may have landed' } } : { status: 200, body: {} }));

  it('never sends a counter write twice after an error that may have landed', async () => {
    // Prepare
    const { handler, exchanges } = timeoutOnce();
    const client = new DynamoDBClient({ ...config, requestHandler: handler as never });
    retryOnlyThrottling(client, isCounterWrite);

    // Act / Assess
    await expect(documentClient(client).send(counterAdd)).rejects.toThrow(AmbiguousWriteError);
    expect(exchanges).toHaveLength(1);
  });

  it('retries a throttled counter write, and every other call as before', async () => {
    const { handler, exchanges } = standIn((_exchange, index) => (index === 0 ? { status: 400, body: { __type: 'ThrottlingException', message: 'slow down' } } : { status: 200, body: {} }));
    const client = new DynamoDBClient({ ...config, requestHandler: handler as never });
    retryOnlyThrottling(client, isCounterWrite);
    const other = timeoutOnce();
    const otherClient = new DynamoDBClient({ ...config, requestHandler: other.handler as never });
    retryOnlyThrottling(otherClient, isCounterWrite);

    await documentClient(client).send(counterAdd);
    await documentClient(otherClient).send(transientWrite);

    expect(exchanges).toHaveLength(2);
    expect(other.exchanges).toHaveLength(2);
  });

  it('sees the lost responses the chaos layer injects, which sit inside it', async () => {
    const { handler, exchanges } = standIn(() => ({ status: 200, body: {} }));
    const client = new DynamoDBClient({ ...config, requestHandler: handler as never });
    retryOnlyThrottling(client, isCounterWrite);
    instrumentClient(client, 'DynamoDB', new FaultPlan({ seed: 1, faults: { [Fault.LostResponse]: { rate: 1, firstTries: 1 } } }));

    await expect(documentClient(client).send(counterAdd)).rejects.toThrow(AmbiguousWriteError);
    expect(exchanges).toHaveLength(1);
  });
});

describe('Function: instrumentClient', () => {
  it('throttles the first attempt of a call on the matched item before it is sent, and the SDK retries it', async () => {
    const { handler, exchanges } = standIn(() => ({ status: 200, body: {} }));
    const client = new DynamoDBClient({ ...config, requestHandler: handler as never });
    const events: JournalEvent[] = [];
    instrumentClient(client, 'DynamoDB', new FaultPlan({ seed: 1, faults: { [Fault.Throttle]: { rate: 1, firstTries: 1, match: '^sn$' } } }), journalOf(events));
    const doc = documentClient(client);

    const hit = await doc.send(new GetCommand({ TableName: 't', Key: { pk: 'T#sn', sk: 'STATE' } }));
    const missed = await doc.send(new GetCommand({ TableName: 't', Key: { pk: 'T#other', sk: 'STATE' } }));

    expect(hit.$metadata.attempts).toBe(2);
    expect(missed.$metadata.attempts).toBe(1);
    expect(exchanges).toHaveLength(2);
    expect(events).toEqual([expect.objectContaining({ type: 'fault', fault: Fault.Throttle, key: 'GetItem T#sn #1', attempt: 1 })]);
  });

  it('loses the response of a call that landed: the service sees it twice', async () => {
    const { handler, exchanges } = standIn(() => ({ status: 200, body: {} }));
    const client = new DynamoDBClient({ ...config, requestHandler: handler as never });
    instrumentClient(client, 'DynamoDB', new FaultPlan({ seed: 1, faults: { [Fault.LostResponse]: { rate: 1, firstTries: 1 } } }));

    const output = await documentClient(client).send(new GetCommand({ TableName: 't', Key: { pk: 'T#sn', sk: 'STATE' } }));

    expect(output.$metadata.attempts).toBe(2);
    expect(exchanges.map((exchange) => exchange.target)).toEqual(['DynamoDB_20120810.GetItem', 'DynamoDB_20120810.GetItem']);
  });

  it('throttles every attempt of a call in a throttle storm, past the SDK retry budget', async () => {
    const { handler, exchanges } = standIn(() => ({ status: 200, body: {} }));
    const client = new DynamoDBClient({ ...config, requestHandler: handler as never });
    instrumentClient(client, 'DynamoDB', new FaultPlan({ seed: 1, faults: { [Fault.ThrottleStorm]: { rate: 1, match: '^sn$' } } }));

    await expect(documentClient(client).send(new GetCommand({ TableName: 't', Key: { pk: 'T#sn', sk: 'STATE' } }))).rejects.toMatchObject({
      name: expect.stringMatching(/Throttl|ProvisionedThroughputExceeded/),
      $metadata: { attempts: AWS_MAX_ATTEMPTS },
    });
    expect(exchanges).toHaveLength(0);
  }, 60_000);

  it('cancels a transaction as a conflicting one would, before it is sent', async () => {
    const { handler, exchanges } = standIn(() => ({ status: 200, body: {} }));
    const client = new DynamoDBClient({ ...config, requestHandler: handler as never });
    instrumentClient(client, 'DynamoDB', new FaultPlan({ seed: 1, faults: { [Fault.TransactionConflict]: 1 } }));
    const transaction = new TransactWriteCommand({ TransactItems: [{ Put: { TableName: 't', Item: { pk: 'a', sk: 'b' } } }] });

    const refused = await documentClient(client).send(transaction).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(TransactionCanceledException);
    expect((refused as TransactionCanceledException).CancellationReasons).toEqual([{ Code: 'TransactionConflict' }]);
    expect(exchanges).toHaveLength(0);
  });

  it('refuses ChangeMessageVisibility as for an expired receipt handle', async () => {
    const { handler } = standIn(() => ({ status: 200, body: {} }));
    const client = new SQSClient({ ...config, requestHandler: handler as never });
    instrumentClient(client, 'SQS', new FaultPlan({ seed: 1, faults: { [Fault.VisibilityChangeFails]: 1 } }));

    await expect(client.send(new ChangeMessageVisibilityCommand({ QueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', ReceiptHandle: 'h', VisibilityTimeout: 5 }))).rejects.toBeInstanceOf(
      ReceiptHandleIsInvalid,
    );
  });
});

describe('Function: injectSendFaults', () => {
  const entries = ['a', 'b', 'c'].map((name, index) => ({ Id: String(index), MessageBody: JSON.stringify({ transient: name, task: 'A', readyAt: 1 }) }));
  const sqsStandIn = () =>
    standIn((exchange) => ({
      status: 200,
      body: {
        Successful: ((exchange.body.Entries ?? []) as { Id: string; MessageBody: string }[]).map((entry) => ({
          Id: entry.Id,
          MessageId: `m-${entry.Id}`,
          MD5OfMessageBody: createHash('md5').update(entry.MessageBody).digest('hex'),
        })),
      },
    }));
  const send = async (faults: ConstructorParameters<typeof FaultPlan>[0]['faults']) => {
    const { handler, exchanges } = sqsStandIn();
    const client = new SQSClient({ ...config, requestHandler: handler as never });
    injectSendFaults(client, new FaultPlan({ seed: 1, faults }));
    const output = await client.send(new SendMessageBatchCommand({ QueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', Entries: entries }));
    return { output, sent: exchanges.map((exchange) => exchange.body.Entries as { Id: string; MessageBody: string; DelaySeconds?: number }[]) };
  };

  it('refuses the matched entries, reporting them as Failed, and sends the rest', async () => {
    const { output, sent } = await send({ [Fault.PartialSendFailure]: { rate: 1, match: '^b/' } });
    expect(sent.map((batch) => batch.map((entry) => entry.Id))).toEqual([['0', '2']]);
    expect(output.Failed).toEqual([expect.objectContaining({ Id: '1', SenderFault: false })]);
  });

  it('sends the matched entries a second time', async () => {
    const { sent } = await send({ [Fault.DuplicateSend]: { rate: 1, match: '^a/' } });
    expect(sent.map((batch) => batch.map((entry) => entry.MessageBody))).toEqual([entries.map((entry) => entry.MessageBody), [entries[0]?.MessageBody]]);
  });

  it('journals every message that reached the queue, duplicates included, with the id SQS gave it', async () => {
    const { handler } = sqsStandIn();
    const client = new SQSClient({ ...config, requestHandler: handler as never });
    const events: JournalEvent[] = [];
    const plan = new FaultPlan({ seed: 1, faults: { [Fault.DuplicateSend]: { rate: 1, match: '^a/' }, [Fault.PartialSendFailure]: { rate: 1, match: '^b/' } } });
    instrumentClient(client, 'SQS', plan, journalOf(events));
    injectSendFaults(client, plan, journalOf(events));

    await client.send(new SendMessageBatchCommand({ QueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', Entries: entries }));

    const sends = events.filter((event) => event.type === 'send').map((event) => event.type === 'send' && [event.transient, event.messageId]);
    expect(sends).toEqual([
      ['a', 'm-0'],
      ['c', 'm-2'],
      ['a', 'm-0-again'],
    ]);
  });

  it('delays the matched entries by one to five seconds', async () => {
    const { sent } = await send({ [Fault.DelayedSend]: { rate: 1, match: '^c/' } });
    const delays = sent[0]?.map((entry) => entry.DelaySeconds);
    expect(delays?.slice(0, 2)).toEqual([undefined, undefined]);
    expect(delays?.[2]).toBeGreaterThanOrEqual(1);
    expect(delays?.[2]).toBeLessThanOrEqual(5);
  });
});
