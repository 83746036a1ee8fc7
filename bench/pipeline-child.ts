/**
 * A child process that runs the whole pipeline once: the local runtime (emulated event sources and
 * schedules) with the bundled handlers, fed with transients, until every transient is completed or
 * blocked. It reads the handlers' own EMF metrics for chaining latency and completion, times every
 * invocation as Lambda would bill it, and reports to the parent over IPC.
 */
import { type AttributeValue, BatchGetItemCommand, type BatchGetItemCommandOutput, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { registry as exampleRegistry } from '../runners/registry';
import { ENV } from '../lib/settings/config';
import { isFinalType, statusTypeOf } from '../lib/domain/catalog';
import { ProcessingStatus, dependencyEdges, processingStatus, statusOf } from '../lib/domain/workflow';
import { ingestTransients } from '../lib/engine/ingest';
import { WORKFLOW_DIMENSION } from '../lib/engine/transitions';
import { type Handlers, LocalRuntime } from '../lib/local/runtime';
import { localClientConfig } from '../lib/local/services';
import { isTransientRunner } from '../lib/runner';
import { DEAD_LETTER_FUNCTION } from '../lib/settings/framework-functions';
import { decodeTransient, keys } from '../lib/store/dynamodb';
import { Metric } from '../lib/engine/telemetry';
import { importBundledHandlers, workerPerTask } from './bundle';
import { AWS_CALL_LATENCY_MS, gbSeconds } from './cost';
import { captureStdout } from './emf';
import { itemSize } from './item-size';
import { registry as noopRegistry } from './noop-registry';
import { type FunctionUsage, type PipelineJob, type PipelineResult, pipelineJobSchema } from './pipeline-protocol';
import { type InvocationLedger, type InvocationTime, invocationLedger, invocationTime, watchConcurrency, watchServiceCalls } from './runner-time';
import { syntheticTransients } from './transients';

const job: PipelineJob = pipelineJobSchema.parse(JSON.parse(process.argv[2] ?? '{}'));
// Finished transients are counted from the workflow's metrics: without them the run would wait out its timeout.
if (process.env.POWERTOOLS_METRICS_DISABLED?.toLowerCase() === 'true') throw new Error('POWERTOOLS_METRICS_DISABLED is set: the pipeline counts finished transients from the metrics');
const runners = job.registry === 'noop' ? noopRegistry : exampleRegistry;
const transients = syntheticTransients(job.transients);
const names = transients.map((transient) => transient.name);

const usage = (): FunctionUsage => ({ invocations: 0, billedMs: 0, gbSeconds: 0, localMs: 0, waitMs: 0, computeMs: 0 });
const functions = { worker: usage(), dispatching: usage(), idleDispatch: usage(), deadLetter: usage(), system: usage() };
const hostOf = (endpoint: string) => new URL(endpoint).host;
const awsLatencyMs = (host: string) => (host === hostOf(job.endpoints.sqs) || host === hostOf(job.directSqs) ? AWS_CALL_LATENCY_MS.sqs : AWS_CALL_LATENCY_MS.dynamodb);
const bill = (into: FunctionUsage, time: InvocationTime, context: Context) => {
  into.invocations++;
  into.billedMs += Math.ceil(time.projectedMs);
  into.gbSeconds += gbSeconds(time.projectedMs, Number(context.memoryLimitInMB));
  into.localMs += time.wallMs - time.runnerMs;
  into.waitMs += time.waitMs;
  into.computeMs += time.computeMs;
};

/**
 * Times each invocation as Lambda bills it, less the time the runners' own work covered (their science is
 * not the framework's), with the framework's waits projected to AWS's latency. The dispatcher's invocations
 * are split by whether it sent anything: idle ticks are a fixed cost, as are the system runners' scheduled runs.
 */
const timed = (handlers: Handlers): Handlers => {
  const ledger = invocationLedger();
  watchServiceCalls();
  const wrap =
    <E, R>(handler: (event: E, context: Context) => Promise<R>, account: (result: R | undefined) => FunctionUsage) =>
    async (event: E, context: Context): Promise<R> => {
      const entry: InvocationLedger = { runnerIntervals: [], calls: [] };
      const started = performance.now();
      let result: R | undefined;
      try {
        result = await ledger.run(entry, () => handler(event, context));
        return result;
      } finally {
        bill(account(result), invocationTime(entry, started, performance.now(), awsLatencyMs), context);
      }
    };
  const dispatchedOf = (result: unknown) => z.looseObject({ dispatched: z.number() }).safeParse(result).data?.dispatched ?? 0;
  return {
    dispatcher: wrap(handlers.dispatcher, (result) => {
      const sent = dispatchedOf(result);
      dispatched += sent;
      return sent > 0 ? functions.dispatching : functions.idleDispatch;
    }),
    transientWorker: wrap(handlers.transientWorker, () => functions.worker),
    systemWorker: wrap(handlers.systemWorker, () => functions.system),
    deadLetter: wrap(handlers.deadLetter, () => functions.deadLetter),
  };
};

let dispatched = 0;
let finished = 0;
const chainLatenciesMs: number[] = [];
const completions: { at: number; count: number }[] = [];
const transientTasks = new Set(runners.filter(isTransientRunner).map((runner) => runner.taskName));
/** Tasks that wait for another: their ReadyToClaim runs from a predecessor's completion write to their claim. */
const chained = new Set(
  runners
    .filter(isTransientRunner)
    .filter((runner) => dependencyEdges({ task: runner.taskName, prerequisites: runner.prerequisites, failedStatus: runner.failedStatusMessage }).length > 0)
    .map((runner) => runner.taskName),
);

const workflowMetrics = `"task":"${WORKFLOW_DIMENSION}"`;
const output = captureStdout(
  (metrics) => {
    if (metrics.task === WORKFLOW_DIMENSION) finished += metrics.sum(Metric.TransientsCompleted) + metrics.sum(Metric.TransientsBlocked);
    if (metrics.task && chained.has(metrics.task)) chainLatenciesMs.push(...metrics.values(Metric.ReadyToClaim));
  },
  (line) => job.instrument || line.includes(workflowMetrics),
);

const dynamodbCalls = watchConcurrency(new URL(job.endpoints.dynamodb).host);
let started = Date.now();
const runtime = await LocalRuntime.start({
  runners,
  tickMs: job.tickMs,
  prefix: job.prefix,
  endpoints: job.endpoints,
  loadHandlers: async () => {
    const workerEnv: Record<string, string> = job.chaining ? {} : { [ENV.queueUrls]: '{}' };
    const shared = await importBundledHandlers(job.bundleDir, job.prefix, { 'transient-worker': workerEnv });
    const transientWorker = await workerPerTask(job.bundleDir, job.prefix, [...transientTasks], shared.transientWorker, workerEnv);
    const handlers = { ...shared, transientWorker };
    return job.instrument ? timed(handlers) : handlers;
  },
  onInvocation: (functionName, outcome) => {
    if (functionName !== DEAD_LETTER_FUNCTION) completions.push({ at: Date.now() - started, count: outcome.records - outcome.failed });
  },
});
const { workflow } = runtime.engine;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dynamo = new DynamoDBClient(localClientConfig(job.directDynamodb));

/** Reads the finished transients straight from DynamoDB Local (not through the meter), as stored. */
const readItems = async (): Promise<Record<string, AttributeValue>[]> => {
  const items: Record<string, AttributeValue>[] = [];
  const { tableName } = runtime.resources;
  for (let i = 0; i < names.length; i += 100) {
    let pending: Record<string, AttributeValue>[] | undefined = names.slice(i, i + 100).map((name) => {
      const key = keys.transient(name);
      return { pk: { S: key.pk }, sk: { S: key.sk } };
    });
    while (pending && pending.length > 0) {
      const response: BatchGetItemCommandOutput = await dynamo.send(new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }));
      items.push(...(response.Responses?.[tableName] ?? []));
      pending = response.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return items;
};

let result: PipelineResult;
const cpuAtStart = process.cpuUsage();
try {
  if (job.ingest.mode === 'bulk') {
    await ingestTransients(runtime.engine, transients, { announce: false });
    started = Date.now();
    dynamodbCalls.reset();
    runtime.run();
  } else {
    runtime.run();
    started = Date.now();
    dynamodbCalls.reset();
    const gapMs = 1000 / job.ingest.perSecond;
    for (const [index, transient] of transients.entries()) {
      await sleep(Math.max(0, started + index * gapMs - Date.now()));
      await ingestTransients(runtime.engine, [transient], { announce: true });
    }
  }
  while (finished < transients.length) {
    if (Date.now() - started > job.timeoutMs) {
      throw new Error(`${finished} of ${transients.length} transients finished within ${job.timeoutMs} ms (${job.registry}, chaining ${job.chaining ? 'on' : 'off'})`);
    }
    await sleep(20);
  }
  const wallMs = Date.now() - started;
  const dynamodbConcurrency = dynamodbCalls.average();
  dynamodbCalls.stop();

  const items = await readItems();
  const records = items.map((item) => decodeTransient(unmarshall(item)));
  const statuses = records.map((record) => processingStatus(workflow, record.registers));
  if (records.length !== transients.length || statuses.includes(ProcessingStatus.Processing)) {
    throw new Error(`the metrics say every transient finished, but the table holds ${records.length} of ${transients.length}, some still processing`);
  }
  const executions = records.reduce(
    (total, record) =>
      total + workflow.order.filter((task) => isFinalType(statusTypeOf(workflow.catalog, statusOf(record.registers, task)))).length,
    0,
  );
  const sizes = items.map(itemSize);
  result = {
    transients: transients.length,
    completed: statuses.filter((status) => status === ProcessingStatus.Completed).length,
    blocked: statuses.filter((status) => status === ProcessingStatus.Blocked).length,
    executions,
    wallMs,
    completions,
    chainLatenciesMs,
    functions,
    logBytes: output.logBytes,
    emfBytes: output.emfBytes,
    dispatched,
    dynamodbConcurrency,
    cpuMs: (() => {
      const used = process.cpuUsage(cpuAtStart);
      return (used.user + used.system) / 1000;
    })(),
    itemBytes: { mean: sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length), max: Math.max(0, ...sizes) },
  };
} finally {
  await runtime.stop();
  output.restore();
  const sqs = new SQSClient(localClientConfig(job.directSqs));
  await Promise.all([
    dynamo.send(new DeleteTableCommand({ TableName: runtime.resources.tableName })),
    ...runtime.queueUrls().map((QueueUrl) => sqs.send(new DeleteQueueCommand({ QueueUrl }))),
  ]);
  sqs.destroy();
  dynamo.destroy();
}
process.send?.(result, () => process.exit(0));
