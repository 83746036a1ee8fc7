import { describe, expect, it } from 'vitest';
import { DynamoDbMeter, type Exchange, SqsMeter, itemKind } from '../../../bench/wire-meter';
import { SystemTaskName } from '../../../runners/system-tasks';

const exchange = (target: string, request: unknown, response: unknown, status = 200): Exchange => ({
  target,
  status,
  requestBody: Buffer.from(JSON.stringify(request)),
  responseBody: Buffer.from(response === undefined ? '' : JSON.stringify(response)),
  ms: 2,
});
const dynamo = (operation: string) => `DynamoDB_20120810.${operation}`;
const capacity = (units: number) => ({ ConsumedCapacity: { TableName: 't', CapacityUnits: units } });
const key = (pk: string, sk: string) => ({ pk: { S: pk }, sk: { S: sk } });

describe('Function: itemKind', () => {
  it.each([
    ['T#2010H', 'STATE', 'transient'],
    ['T#2010H', 'OUT#Host match', 'output'],
    ['READY#Host match#0', '2010-01-16T00:00:00.000Z#2010H', 'ready'],
    ['LOCK#Host match', 'LOCK', 'lock'],
    ['DEAD#Host match', '2010H', 'dead'],
  ])('%s / %s is a %s item', (pk, sk, kind) => {
    expect(itemKind(pk, sk)).toBe(kind);
  });

  it.each([
    [`LOCK#${SystemTaskName.SnapshotTaskRegister}`, 'LOCK', 'system'],
    [`SYS#${SystemTaskName.SnapshotTaskRegister}`, 'STATE', 'system'],
    ['LOCK#Host match', 'LOCK', 'lock'],
  ])("%s / %s of the system runners' meter is a %s item", (pk, sk, kind) => {
    expect(itemKind(pk, sk, new Set([SystemTaskName.SnapshotTaskRegister]))).toBe(kind);
  });
});

describe('Class: DynamoDbMeter', () => {
  it('sums the consumed capacity of each call by operation and item kind', () => {
    // Prepare
    const meter = new DynamoDbMeter();

    // Act
    meter.record(exchange(dynamo('UpdateItem'), { Key: key('T#a', 'STATE') }, capacity(1)));
    meter.record(exchange(dynamo('UpdateItem'), { Key: key('T#b', 'STATE') }, capacity(2)));
    meter.record(exchange(dynamo('PutItem'), { Item: key('T#a', 'OUT#Host match') }, capacity(1)));
    meter.record(
      exchange(dynamo('BatchWriteItem'), { RequestItems: { t: [{ DeleteRequest: { Key: key('READY#x#0', 'p1') } }, { DeleteRequest: { Key: key('READY#x#0', 'p2') } }] } }, {
        ConsumedCapacity: [{ TableName: 't', CapacityUnits: 2 }],
      }),
    );

    // Assess
    expect(meter.lines()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ operation: 'UpdateItem', kind: 'transient', requests: 2, units: 3, items: 2 }),
        expect.objectContaining({ operation: 'PutItem', kind: 'output', requests: 1, units: 1 }),
        expect.objectContaining({ operation: 'BatchWriteItem', kind: 'ready', requests: 1, units: 2, items: 2 }),
      ]),
    );
    expect(meter.problems).toEqual([]);
  });

  it('counts the items a query examined, and files empty queries apart as idle probes', () => {
    const meter = new DynamoDbMeter();
    const query = (pk: string) => ({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } } });

    meter.record(exchange(dynamo('Query'), query('READY#x#0'), { ...capacity(1), Count: 7, ScannedCount: 7 }));
    meter.record(exchange(dynamo('Query'), query('READY#x#1'), { ...capacity(0), Count: 0, ScannedCount: 0 }));

    expect(meter.lines()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ operation: 'Query', kind: 'ready', items: 7, units: 1 }),
        expect.objectContaining({ operation: 'Query', kind: 'ready (empty)', items: 0, requests: 1 }),
      ]),
    );
  });

  it('bills a refused conditional write for the size of the item it was checked against', () => {
    const meter = new DynamoDbMeter();
    const item = { pk: { S: 'T#a' }, sk: { S: 'STATE' }, big: { S: 'x'.repeat(1500) } };

    meter.record(exchange(dynamo('UpdateItem'), { Key: key('T#a', 'STATE') }, { __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', Item: item }, 400));

    expect(meter.lines()).toEqual([expect.objectContaining({ operation: 'UpdateItem', kind: 'transient', failed: 1, units: 2 })]);
  });

  it('reports a call that did not ask for its consumed capacity, rather than counting it as free', () => {
    const meter = new DynamoDbMeter();
    meter.record(exchange(dynamo('GetItem'), { Key: key('T#a', 'STATE') }, { Item: {} }));
    expect(meter.problems).toEqual([expect.stringContaining('GetItem on transient returned no ConsumedCapacity')]);
  });

  it('ignores table administration', () => {
    const meter = new DynamoDbMeter();
    meter.record(exchange(dynamo('CreateTable'), { TableName: 't' }, {}));
    expect(meter.lines()).toEqual([]);
  });

  it('starts a new phase on reset', () => {
    const meter = new DynamoDbMeter();
    meter.record(exchange(dynamo('UpdateItem'), { Key: key('T#a', 'STATE') }, capacity(1)));
    meter.reset();
    expect(meter.lines()).toEqual([]);
  });
});

describe('Class: SqsMeter', () => {
  const queueUrl = 'http://127.0.0.1:1234/123456789012/bench-host-match';

  it('counts requests in 64 KB chunks, messages, and receives that found nothing', () => {
    // Prepare
    const meter = new SqsMeter();

    // Act
    meter.record(exchange('AmazonSQS.SendMessageBatch', { QueueUrl: queueUrl, Entries: [{ Id: '0', MessageBody: 'x'.repeat(70_000) }] }, {}));
    meter.record(exchange('AmazonSQS.ReceiveMessage', { QueueUrl: queueUrl }, { Messages: [{ Body: 'a' }, { Body: 'b' }] }));
    meter.record(exchange('AmazonSQS.ReceiveMessage', { QueueUrl: queueUrl }, undefined));
    meter.record(exchange('AmazonSQS.GetQueueAttributes', { QueueUrl: queueUrl }, {}));

    // Assess
    expect(meter.lines()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ operation: 'SendMessageBatch', kind: 'bench-host-match', requests: 1, units: 2, items: 1 }),
        expect.objectContaining({ operation: 'ReceiveMessage', kind: 'bench-host-match', requests: 2, units: 2, items: 2, empty: 1 }),
      ]),
    );
    expect(meter.lines()).toHaveLength(2);
  });
});
