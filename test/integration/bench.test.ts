/**
 * The benchmark's measuring parts on DynamoDB Local and the SQS emulator: the recording proxies count what
 * the real store and SQS clients do, and the read-amplification step tells the ready index from a scan.
 */
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { measureReadAmplification } from '../../bench/read-amplification';
import { DynamoDbMeter, type RecordingProxy, SqsMeter, sumLines, startRecordingProxy } from '../../bench/wire-meter';
import { registry } from '../../runners/registry';
import { createEngine } from '../../lib/bootstrap/create-engine';
import { Status } from '../../lib/domain/catalog';
import { ingestTransients } from '../../lib/engine/ingest';
import { localClientConfig } from '../../lib/local/services';
import { createTableInput } from '../../lib/store/dynamodb/table';
import { sampleTransient } from '../helpers/factories';

describe('Integration: the benchmark on DynamoDB Local and the SQS emulator', () => {
  const dynamoMeter = new DynamoDbMeter();
  const sqsMeter = new SqsMeter();
  let dynamoProxy: RecordingProxy;
  let sqsProxy: RecordingProxy;
  const prefix = `bt${process.pid.toString(36)}${Date.now().toString(36)}`;

  beforeAll(async () => {
    [dynamoProxy, sqsProxy] = await Promise.all([
      startRecordingProxy(inject('dynamodbEndpoint'), dynamoMeter),
      startRecordingProxy(inject('sqsEndpoint'), sqsMeter),
    ]);
  });
  afterAll(() => Promise.all([dynamoProxy?.close(), sqsProxy?.close()]));

  it('counts the write units of a claim and a completion through the real store, and bills a refused claim', async () => {
    // Prepare
    const dynamo = new DynamoDBClient(localClientConfig(dynamoProxy.endpoint));
    const tableName = `${prefix}-meter`;
    await dynamo.send(new CreateTableCommand(createTableInput(tableName)));
    const engine = createEngine({ tableName, queueUrls: {}, deadLetterQueueArns: {}, fixturesDir: 'fixtures', retryBaseSeconds: 1 }, { serviceName: 'test', runners: registry, dynamo });
    await ingestTransients(engine, [sampleTransient('2010H')]);
    const spec = engine.workflow.specs.get('Cutout download');
    if (!spec) throw new Error('no Cutout download runner');
    dynamoMeter.reset();

    // Act
    const now = Date.now();
    const claim = { status: Status.Processing, lastModified: now, claim: 'c1.1', leaseUntil: now + 60_000 };
    await engine.store.transients.claim('2010H', spec, claim, now);
    await engine.store.transients.settle('2010H', spec.task, 'c1.1', { status: Status.Processed, lastModified: now, claim: 'c1.1' });
    const again = await engine.store.transients.claim('2010H', spec, { ...claim, claim: 'c2.1' }, now);

    // Assess
    expect(again.ok).toBe(false);
    expect(dynamoMeter.lines()).toEqual([expect.objectContaining({ operation: 'UpdateItem', kind: 'transient', requests: 3, failed: 1, units: 3 })]);
    expect(dynamoMeter.problems).toEqual([]);
  });

  it("rewrites the emulator's queue URLs, so that a client sending to a QueueUrl goes through the proxy", async () => {
    // Prepare: like the handlers' clients, this one has no endpoint of its own and follows the QueueUrl
    const admin = new SQSClient(localClientConfig(sqsProxy.endpoint));
    const { QueueUrl } = await admin.send(new CreateQueueCommand({ QueueName: `${prefix}-rewrite` }));
    const follower = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, logger: { debug() {}, info() {}, warn() {}, error() {} } });
    const { taskQueues } = await import('../../lib/queue/task-queues');
    sqsMeter.reset();

    // Act
    const failed = await taskQueues(follower, { task: QueueUrl ?? '' }).send('task', [{ transient: '2010H', task: 'task', readyAt: 1 }]);

    // Assess
    expect(QueueUrl?.startsWith(sqsProxy.endpoint)).toBe(true);
    expect(failed).toEqual([]);
    expect(sqsMeter.lines()).toEqual([expect.objectContaining({ operation: 'SendMessageBatch', requests: 1, items: 1 })]);
    await admin.send(new DeleteQueueCommand({ QueueUrl }));
  });

  it('reads about one item per transient dispatched through the ready index, and the whole table when scanning', async () => {
    // Act: 400 transients, one in twenty ready for the first task (four shards)
    const result = await measureReadAmplification({
      runners: registry,
      fixturesDir: 'fixtures',
      dynamodbEndpoint: inject('dynamodbEndpoint'),
      meteredDynamodbEndpoint: dynamoProxy.endpoint,
      meter: dynamoMeter,
      sqsEndpoint: inject('sqsEndpoint'),
      task: 'Cutout download',
      transients: 400,
      readyShare: 0.05,
      prefix: `${prefix}r`,
    });

    // Assess
    expect(result.ready).toBe(20);
    expect(result.ours.dispatched).toBe(20);
    expect(result.naive.dispatched).toBe(20);
    // The ready markers, plus one probe per shard.
    expect(result.ours.itemsRead).toBe(20 + result.readyShards);
    expect(result.ours.selfReportedItemsRead).toBe(result.ours.itemsRead);
    expect(result.naive.itemsRead).toBeGreaterThanOrEqual(400);
    expect(result.naive.readUnits).toBeGreaterThan(4 * result.ours.readUnits);
    expect(sumLines(dynamoMeter.lines(), 'items')).toBe(result.naive.itemsRead);
  });
});
