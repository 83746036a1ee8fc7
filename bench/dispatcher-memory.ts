/**
 * The dispatcher's memory while draining a large ready backlog: the real handler, bundled, in a child
 * process of its own, against a task whose ready index holds `backlog` markers. It must page through,
 * never holding the backlog at once.
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createEngine } from '../lib/bootstrap/create-engine';
import { ENV } from '../lib/settings/config';
import { markerFor } from '../lib/engine/transitions';
import { localAwsEnv, localClientConfig } from '../lib/local/services';
import type { AnyRunner } from '../lib/runner';
import { createTableInput } from '../lib/store/dynamodb/table';
import { runChild } from './child';
import { syntheticTransients } from './transients';

export interface DispatcherMemoryOptions {
  readonly runners: readonly AnyRunner[];
  readonly fixturesDir: string;
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  readonly task: string;
  readonly backlog: number;
  /** The bundled dispatcher-child.ts. */
  readonly childScript: string;
  readonly prefix: string;
}

export const dispatcherMemorySchema = z.strictObject({
  /** Resident set once the handler module is loaded, before any work. */
  loadedRssMb: z.number(),
  /** Peak resident set over the whole drain (VmHWM). */
  peakRssMb: z.number(),
  sampledPeakRssMb: z.number(),
  dispatched: z.number(),
  itemsRead: z.number(),
  invocations: z.number(),
  ms: z.number(),
});
export type DispatcherMemory = z.infer<typeof dispatcherMemorySchema> & { readonly backlog: number; readonly setupMs: number };

const PUT_CONCURRENCY = 8;
const PUT_CHUNK = 1000;

export const measureDispatcherMemory = async (options: DispatcherMemoryOptions): Promise<DispatcherMemory> => {
  const dynamo = new DynamoDBClient(localClientConfig(options.dynamodbEndpoint));
  const sqs = new SQSClient(localClientConfig(options.sqsEndpoint));
  const tableName = `${options.prefix}-backlog`;
  await dynamo.send(new CreateTableCommand(createTableInput(tableName)));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${options.prefix}-backlog` }));
  if (!QueueUrl) throw new Error('the emulator created no queue');
  try {
    const queueUrls = { [options.task]: QueueUrl };
    const engine = createEngine(
      { tableName, queueUrls, deadLetterQueueArns: {}, fixturesDir: options.fixturesDir, retryBaseSeconds: 10 },
      { serviceName: 'bench', runners: options.runners, dynamo, sqs },
    );
    // The dispatcher reads the ready index only, so the backlog is its markers: one per waiting transient.
    const started = Date.now();
    const markers = syntheticTransients(options.backlog).map((transient) => markerFor(engine, transient, options.task, started, 0));
    let next = 0;
    await Promise.all(
      Array.from({ length: PUT_CONCURRENCY }, async () => {
        for (let from = next; from < markers.length; from = next) {
          next += PUT_CHUNK;
          await engine.store.readiness.put(markers.slice(from, from + PUT_CHUNK));
        }
      }),
    );
    const setupMs = Date.now() - started;
    const result = await runChild(options.childScript, [options.task, String(options.backlog)], dispatcherMemorySchema, {
      env: {
        ...process.env,
        ...localAwsEnv,
        [ENV.tableName]: tableName,
        [ENV.queueUrls]: JSON.stringify(queueUrls),
        [ENV.fixturesDir]: options.fixturesDir,
        AWS_ENDPOINT_URL_DYNAMODB: options.dynamodbEndpoint,
        AWS_ENDPOINT_URL_SQS: options.sqsEndpoint,
      },
      stdout: 'ignore',
      timeoutMs: 900_000,
    });
    return { ...result, backlog: options.backlog, setupMs };
  } finally {
    await Promise.all([dynamo.send(new DeleteTableCommand({ TableName: tableName })), sqs.send(new DeleteQueueCommand({ QueueUrl }))]);
    dynamo.destroy();
    sqs.destroy();
  }
};
