/**
 * Dispatch read amplification: a table of many transients of which a small share is ready for one runner;
 * the real dispatcher and the naive scanning one each send the ready ones. Items read are counted on the
 * wire (what DynamoDB returned to the dispatcher and billed), and compared with the messages sent.
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createEngine, documentClient } from '../lib/bootstrap/create-engine';
import { chunk, forEachLimited } from '../lib/engine/concurrency';
import { Status } from '../lib/domain/catalog';
import { CountBucket } from '../lib/domain/counts';
import { type Registers, isReady } from '../lib/domain/workflow';
import { dispatchReady } from '../lib/engine/dispatch';
import { transientRunner } from '../lib/engine/engine';
import { markerFor } from '../lib/engine/transitions';
import { localClientConfig } from '../lib/local/services';
import type { AnyRunner } from '../lib/runner';
import { createTableInput } from '../lib/store/dynamodb/table';
import { naiveDispatch } from './naive-dispatcher';
import { syntheticTransients } from './transients';
import { type DynamoDbMeter, sumLines } from './wire-meter';

export interface ReadAmplificationOptions {
  readonly runners: readonly AnyRunner[];
  readonly fixturesDir: string;
  /** DynamoDB Local, for the setup; and the recording proxy in front of it, for what is measured. */
  readonly dynamodbEndpoint: string;
  readonly meteredDynamodbEndpoint: string;
  readonly meter: DynamoDbMeter;
  readonly sqsEndpoint: string;
  readonly task: string;
  readonly transients: number;
  readonly readyShare: number;
  readonly prefix: string;
}

export interface DispatchReads {
  readonly dispatched: number;
  /** Items DynamoDB returned to (and billed) the dispatcher, counted on the wire. */
  readonly itemsRead: number;
  readonly readUnits: number;
  readonly ms: number;
}

export interface ReadAmplification {
  readonly transients: number;
  readonly ready: number;
  readonly task: string;
  readonly readyShards: number;
  readonly ours: DispatchReads & { readonly selfReportedItemsRead: number };
  readonly naive: DispatchReads;
  readonly setupMs: number;
}

const CREATE_CONCURRENCY = 8;
const CREATE_CHUNK = 500;

export const measureReadAmplification = async (options: ReadAmplificationOptions): Promise<ReadAmplification> => {
  const dynamo = new DynamoDBClient(localClientConfig(options.dynamodbEndpoint));
  const metered = new DynamoDBClient(localClientConfig(options.meteredDynamodbEndpoint));
  const sqs = new SQSClient(localClientConfig(options.sqsEndpoint));
  const tableName = `${options.prefix}-reads`;
  await dynamo.send(new CreateTableCommand(createTableInput(tableName)));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${options.prefix}-reads` }));
  if (!QueueUrl) throw new Error('the emulator created no queue');
  const config = { tableName, queueUrls: { [options.task]: QueueUrl }, deadLetterQueueArns: {}, fixturesDir: options.fixturesDir, retryBaseSeconds: 10 };
  try {
    const setup = createEngine(config, { serviceName: 'bench', runners: options.runners, dynamo, sqs });
    const { workflow } = setup;
    const spec = workflow.specs.get(options.task);
    if (!spec) throw new Error(`no transient runner for "${options.task}"`);

    // Most transients have finished; one in 1/readyShare waits for the task, with every prerequisite met.
    const finished: Registers = Object.fromEntries(workflow.order.map((task) => [task, { status: Status.Processed, lastModified: 1 }]));
    const waiting: Registers = Object.fromEntries(
      workflow.order.map((task) => [task, { status: spec.prerequisites[task] ?? Status.NotProcessed, lastModified: 1 }]),
    );
    if (!isReady(spec, waiting) || isReady(spec, finished)) throw new Error(`cannot build a ready state for "${options.task}"`);
    const every = Math.round(1 / options.readyShare);
    const started = Date.now();
    const entries = syntheticTransients(options.transients).map((transient, index) =>
      index % every === 0
        ? { transient, registers: waiting, bucket: CountBucket.Waiting, markers: [markerFor(setup, transient, options.task, started, 0)] }
        : { transient, registers: finished, bucket: CountBucket.Completed, markers: [] },
    );
    // Written apart, the finished ones (no marker) fill whole transactions of a hundred.
    const waitingEntries = entries.filter((entry) => entry.markers.length > 0);
    const finishedEntries = entries.filter((entry) => entry.markers.length === 0);
    const ready = waitingEntries.length;
    const chunks = [waitingEntries, finishedEntries].flatMap((list) => chunk(list, CREATE_CHUNK));
    await forEachLimited(chunks, CREATE_CONCURRENCY, async (entries) => {
      await setup.store.transients.create(entries, started);
    });
    const setupMs = Date.now() - started;

    const engine = createEngine(config, { serviceName: 'bench', runners: options.runners, dynamo: metered, sqs });
    const reads = async <T extends { dispatched: number }>(run: () => Promise<T>) => {
      options.meter.reset();
      const begun = Date.now();
      const result = await run();
      const ms = Date.now() - begun;
      const lines = options.meter.lines();
      const isRead = (line: { operation: string }) => line.operation === 'Query' || line.operation === 'Scan';
      return { result, reads: { dispatched: result.dispatched, itemsRead: sumLines(lines, 'items', isRead), readUnits: sumLines(lines, 'units', isRead), ms } };
    };
    const ours = await reads(() => dispatchReady(engine, options.task, { owner: 'bench', deadline: Date.now() + 300_000 }));
    const naive = await reads(() => naiveDispatch(engine, documentClient(metered), tableName, options.task));
    return {
      transients: options.transients,
      ready,
      task: options.task,
      readyShards: transientRunner(engine, options.task)?.readyShards ?? 1,
      ours: { ...ours.reads, selfReportedItemsRead: ours.result.itemsRead },
      naive: naive.reads,
      setupMs,
    };
  } finally {
    await Promise.all([dynamo.send(new DeleteTableCommand({ TableName: tableName })), sqs.send(new DeleteQueueCommand({ QueueUrl }))]);
    [dynamo, metered, sqs].forEach((client) => client.destroy());
  }
};
