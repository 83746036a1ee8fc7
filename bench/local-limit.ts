/**
 * The local limit: how fast the embedded store and queue themselves go, measured with the clients and the
 * concurrency the pipeline uses. The store's rate is that of the two conditional updates every execution
 * needs at least (the claim and the completion, through the real store code); the queue's is that of one
 * send/receive/delete cycle per message, sent one at a time as chaining sends them, and received and deleted
 * by the local runtime's own event source with a runner's batch size and maximum concurrency.
 */
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Agent } from 'node:http';
import { createEngine } from '../lib/bootstrap/create-engine';
import { Status } from '../lib/domain/catalog';
import type { Workflow } from '../lib/domain/workflow';
import { ingestTransients } from '../lib/engine/ingest';
import { SqsEventSource } from '../lib/local/event-source';
import { localClientConfig } from '../lib/local/services';
import { taskQueues } from '../lib/queue/task-queues';
import type { AnyRunner } from '../lib/runner';
import { createTableInput } from '../lib/store/dynamodb/table';
import { syntheticTransients } from './transients';

export interface LocalLimitOptions {
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  readonly runners: readonly AnyRunner[];
  readonly fixturesDir: string;
  readonly durationMs: number;
  /** Concurrent store calls: the SDK's default socket pool, which the handlers' one client shares. */
  readonly storeConcurrency: number;
  /** Concurrent senders, and pollers receiving batches of `batchSize`. */
  readonly senders: number;
  readonly pollers: number;
  readonly batchSize: number;
  readonly prefix: string;
}

export interface LocalLimit {
  /** Conditional updates per second (claims and completions). */
  readonly conditionalUpdatesPerSecond: number;
  /** Messages per second through send, receive and delete. */
  readonly queueCyclesPerSecond: number;
}

/** Claim then complete every task of one transient after another, in the workflow's order, until time is up. */
const storeRate = async (options: LocalLimitOptions): Promise<number> => {
  const dynamo = new DynamoDBClient(localClientConfig(options.dynamodbEndpoint));
  const tableName = `${options.prefix}-limit`;
  await dynamo.send(new CreateTableCommand(createTableInput(tableName)));
  try {
    const engine = createEngine(
      { tableName, queueUrls: {}, deadLetterQueueArns: {}, fixturesDir: options.fixturesDir, retryBaseSeconds: 10 },
      { serviceName: 'bench', runners: options.runners, dynamo },
    );
    // More transients than the run can finish, so that no worker runs out of work.
    const transients = syntheticTransients(options.storeConcurrency * 2);
    await ingestTransients(engine, transients);
    const work = workOf(engine.workflow, transients.map((transient) => transient.name));
    let updates = 0;
    const started = Date.now();
    const deadline = started + options.durationMs;
    await Promise.all(
      Array.from({ length: options.storeConcurrency }, async (_, worker) => {
        for (let index = worker; Date.now() < deadline; index += options.storeConcurrency) {
          const next = work[index];
          if (!next) return;
          for (const spec of next.specs) {
            if (Date.now() >= deadline) return;
            const now = Date.now();
            const claim = `bench.${worker}`;
            const claimed = await engine.store.transients.claim(next.name, spec, { status: Status.Processing, lastModified: now, claim, leaseUntil: now + 60_000 }, now);
            if (!claimed.ok) throw new Error(`the local-limit claim of ${next.name} / ${spec.task} was refused`);
            const settled = await engine.store.transients.settle(next.name, spec.task, claim, { status: Status.Processed, lastModified: Date.now(), claim });
            if (!settled.ok) throw new Error(`the local-limit completion of ${next.name} / ${spec.task} was refused`);
            updates += 2;
          }
        }
      }),
    );
    return updates / ((Date.now() - started) / 1000);
  } finally {
    await dynamo.send(new DeleteTableCommand({ TableName: tableName }));
    dynamo.destroy();
  }
};

/** Each transient's tasks in an order that meets every prerequisite when all succeed. */
const workOf = (workflow: Workflow, names: readonly string[]) => {
  const specs = workflow.order.flatMap((task) => {
    const spec = workflow.specs.get(task);
    return spec ? [spec] : [];
  });
  return names.map((name) => ({ name, specs }));
};

const queueRate = async (options: LocalLimitOptions): Promise<number> => {
  // The handlers' client (SDK defaults) sends, one message a call as chaining does; the runtime's event source
  // (its client, pollers and batches) receives and deletes, with a handler that does nothing.
  const sender = new SQSClient(localClientConfig(options.sqsEndpoint));
  const receiver = new SQSClient({ ...localClientConfig(options.sqsEndpoint), requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 512 }) } });
  const { QueueUrl } = await sender.send(new CreateQueueCommand({ QueueName: `${options.prefix}-limit` }));
  if (!QueueUrl) throw new Error('the emulator created no queue');
  const queues = taskQueues(sender, { limit: QueueUrl });
  // A closed loop, as chaining is: every message acknowledged lets one more be sent.
  let credits = options.pollers * options.batchSize;
  let acknowledged = 0;
  let counting = false;
  const waiting: (() => void)[] = [];
  const source = new SqsEventSource({
    sqs: receiver,
    queueUrl: QueueUrl,
    queueArn: `arn:aws:sqs:us-east-1:000000000000:${options.prefix}-limit`,
    functionName: 'limit',
    handler: async () => ({ batchItemFailures: [] }),
    batchSize: options.batchSize,
    maxConcurrency: options.pollers,
    timeoutMs: 60_000,
    onInvocation: (outcome) => {
      const done = outcome.records - outcome.failed;
      if (counting) acknowledged += done;
      credits += done;
      waiting.splice(0, done).forEach((wake) => wake());
    },
  });
  try {
    source.start();
    const body = { transient: 'limit', task: 'limit', readyAt: Date.now() };
    // The first second fills the loop; the rate is taken over the rest.
    const warm = Date.now() + 1_000;
    const deadline = warm + options.durationMs;
    setTimeout(() => (counting = true), warm - Date.now());
    await Promise.all(
      Array.from({ length: options.senders }, async () => {
        while (Date.now() < deadline) {
          if (credits <= 0) {
            await new Promise<void>((wake) => {
              waiting.push(wake);
              setTimeout(wake, 50);
            });
            continue;
          }
          credits--;
          const failed = await queues.send('limit', [body]);
          if (failed.length > 0) credits++;
        }
      }),
    );
    return acknowledged / (options.durationMs / 1000);
  } finally {
    await source.stop();
    await sender.send(new DeleteQueueCommand({ QueueUrl }));
    sender.destroy();
    receiver.destroy();
  }
};

export const measureLocalLimit = async (options: LocalLimitOptions): Promise<LocalLimit> => ({
  conditionalUpdatesPerSecond: await storeRate(options),
  queueCyclesPerSecond: await queueRate(options),
});
