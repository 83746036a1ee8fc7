#!/usr/bin/env -S npx tsx
/**
 * `npm run bench` (full) and `npm run bench -- --quick`: dispatch read amplification, request units per
 * execution, chaining latency, local throughput, the dispatcher's memory and the AWS cost, each beside its
 * baseline measured in the same run, on DynamoDB Local and the SQS emulator. Progress goes to stderr; stdout
 * gets the table and, as its last line, one JSON object with every figure.
 */
import { cpus, loadavg } from 'node:os';
import { rmSync, writeFileSync } from 'node:fs';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Command } from 'commander';
import { registry as exampleRegistry } from '../runners/registry';
import { Status } from '../lib/domain/catalog';
import { assertValidRegistry } from '../lib/domain/validation';
import { loadCatalog } from '../lib/fixtures/load-catalog';
import { type LocalService, localClientConfig, startLocalServices } from '../lib/local/services';
import { isPythonRunner, isTransientRunner } from '../lib/runner';
import { ensurePythonEnvironment } from '../lib/python/environment';
import { createTableInput } from '../lib/store/dynamodb/table';
import { keys } from '../lib/store/dynamodb';
import { bundleHandlers, bundleScript } from './bundle';
import { runChild } from './child';
import { measureDispatcherMemory } from './dispatcher-memory';
import { measureBackfillLatency, renderBackfillLatency } from './backfill-latency';
import { type WireItem, itemSize } from './item-size';
import { type LocalLimit, measureLocalLimit } from './local-limit';
import { registry as noopRegistry } from './noop-registry';
import { type PipelineJob, pipelineResultSchema } from './pipeline-protocol';
import { measureReadAmplification } from './read-amplification';
import { renderJson, renderReport } from './report';
import { type Measurements, type MeteredRun, localLimitExecutionsPerSecond, summarise } from './results';
import { syntheticTransients } from './transients';
import { DynamoDbMeter, SqsMeter, startRecordingProxy } from './wire-meter';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface Scale {
  /** Transients in the table the dispatchers read, and the share of them ready. */
  readonly readTransients: number;
  readonly readyShare: number;
  /** Ready transients the dispatcher drains while its memory is watched. */
  readonly backlog: number;
  /** Transients pushed through the pipeline at once for the throughput figure. */
  readonly throughputTransients: number;
  /** How long transients keep arriving in the latency runs (the count follows from the rate). */
  readonly latencyWindowSeconds: number;
  readonly limitMs: number;
}

export const SCALES: Record<'quick' | 'full', Scale> = {
  quick: { readTransients: 10_000, readyShare: 0.01, backlog: 10_000, throughputTransients: 40, latencyWindowSeconds: 15, limitMs: 3_000 },
  full: { readTransients: 100_000, readyShare: 0.01, backlog: 100_000, throughputTransients: 200, latencyWindowSeconds: 60, limitMs: 8_000 },
};

const FIXTURES = 'fixtures';
const WORK_DIR = '.blast-local/bench';
/** The local length of the 60 s schedule period, as `npm start` uses it. */
const TICK_MS = 1_000;
/** Chaining latency is measured at this share of the local limit, so that it is not queueing time. */
const LATENCY_LOAD = 0.25;
/** Concurrent senders in the queue measurement: the SDK's default socket pool, which one function's client shares. */
const SENDERS = 50;
/** The runner whose ready index is measured: the first task, where bulk ingests land, with its shards. */
const DISPATCH_TASK = 'Cutout download';

const began = Date.now();
const progress = (text: string) => process.stderr.write(`· ${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s  ${text}\n`);

/** The smallest item that holds a finished transient: its keys and data, each register's status, time and duration. */
const floorItem = (): WireItem => {
  const [transient] = syntheticTransients(1);
  if (!transient) throw new Error('no sample transient');
  const key = keys.transient(transient.name);
  const register = { M: { s: { S: Status.Processed }, t: { N: String(Date.now()) }, d: { N: '0.05' } } };
  return {
    pk: { S: key.pk },
    sk: { S: key.sk },
    ra: { N: String(transient.raDeg) },
    dec: { N: String(transient.decDeg) },
    ts: { S: transient.publicTimestamp },
    r: { M: Object.fromEntries(exampleRegistry.filter(isTransientRunner).map((runner) => [runner.taskName, register])) },
  };
};

/** The system runners that run on their schedule from deployment on, and how often that is in a 30-day month. */
const scheduledSystemRunners = () => {
  const scheduled = exampleRegistry.filter((runner) => !isTransientRunner(runner) && runner.initiallyEnabled);
  return {
    names: scheduled.map((runner) => runner.taskName),
    runsPerMonth: scheduled.reduce((total, runner) => total + (30 * 24 * 3600) / runner.frequencySeconds, 0),
  };
};

const measureFloorItem = async (endpoint: string, prefix: string) => {
  const dynamo = new DynamoDBClient(localClientConfig(endpoint));
  const TableName = `${prefix}-floor`;
  await dynamo.send(new CreateTableCommand(createTableInput(TableName)));
  try {
    const item = floorItem();
    const result = await dynamo.send(new PutItemCommand({ TableName, Item: item as never, ReturnConsumedCapacity: 'TOTAL' }));
    return { bytes: itemSize(item), writeUnits: result.ConsumedCapacity?.CapacityUnits ?? Number.NaN };
  } finally {
    await dynamo.send(new DeleteTableCommand({ TableName }));
    dynamo.destroy();
  }
};

const runBenchmark = async (mode: 'quick' | 'full'): Promise<Measurements> => {
  const scale = SCALES[mode];
  const started = Date.now();
  const startLoad = loadavg()[0] ?? 0;
  const prefix = `bench${Date.now().toString(36)}`;
  assertValidRegistry(loadCatalog(FIXTURES), exampleRegistry);
  if (exampleRegistry.some(isPythonRunner)) {
    progress('making the Python environment for the Python runners');
    const python = await ensurePythonEnvironment({ onLine: progress });
    if (!python.ready) progress(`! ${python.problem}`);
  }

  progress('bundling the handlers with esbuild');
  rmSync(WORK_DIR, { recursive: true, force: true });
  const exampleBundle = `${WORK_DIR}/example`;
  const noopBundle = `${WORK_DIR}/noop`;
  // The example runners, timed so that their own work is kept out of the framework's Lambda time.
  await bundleHandlers(exampleBundle, 'bench/timed-registry.ts');
  await bundleHandlers(noopBundle, 'bench/noop-registry.ts');
  const dispatcherChild = await bundleScript('dispatcher-child', 'bench/dispatcher-child.ts', WORK_DIR);

  progress('starting DynamoDB Local and the SQS emulator');
  const services: LocalService[] = [];
  const stopServices = () => Promise.all(services.splice(0).map((service) => service.stop()));
  const onSignal = () => void stopServices().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const [dynamodb, sqs] = await startLocalServices();
    services.push(dynamodb, sqs);
    const dynamoMeter = new DynamoDbMeter(new Set(exampleRegistry.filter((runner) => !isTransientRunner(runner)).map((runner) => runner.taskName)));
    const sqsMeter = new SqsMeter();
    const [dynamoProxy, sqsProxy] = await Promise.all([startRecordingProxy(dynamodb.endpoint, dynamoMeter), startRecordingProxy(sqs.endpoint, sqsMeter)]);
    try {
      type Job = Omit<PipelineJob, 'directDynamodb' | 'directSqs' | 'tickMs' | 'bundleDir' | 'instrument'> & { instrument?: boolean };
      const pipeline = (job: Job) =>
        runChild(
          'bench/pipeline-child.ts',
          [JSON.stringify({ bundleDir: job.registry === 'noop' ? noopBundle : exampleBundle, directDynamodb: dynamodb.endpoint, directSqs: sqs.endpoint, tickMs: TICK_MS, ...job })],
          pipelineResultSchema,
          { execArgv: ['--import', 'tsx'], timeoutMs: job.timeoutMs + 60_000 },
        );
      const metered = async (job: Omit<Job, 'endpoints'>): Promise<MeteredRun> => {
        dynamoMeter.reset();
        sqsMeter.reset();
        const result = await pipeline({ ...job, endpoints: { dynamodb: dynamoProxy.endpoint, sqs: sqsProxy.endpoint } });
        return { pipeline: result, dynamodb: dynamoMeter.lines(), sqs: sqsMeter.lines() };
      };
      const transientRunners = noopRegistry.filter(isTransientRunner);
      const limit = (phase: string, storeConcurrency: number, durationMs = scale.limitMs): Promise<LocalLimit> =>
        measureLocalLimit({
          dynamodbEndpoint: dynamodb.endpoint,
          sqsEndpoint: sqs.endpoint,
          runners: noopRegistry,
          fixturesDir: FIXTURES,
          durationMs,
          storeConcurrency,
          senders: SENDERS,
          pollers: Math.max(...transientRunners.map((runner) => runner.maxConcurrency)),
          batchSize: Math.max(...transientRunners.map((runner) => runner.batchSize)),
          prefix: `${prefix}${phase}`,
        });

      progress('warming up DynamoDB Local and the emulator');
      await limit('w', SENDERS, 1_500);
      // The pipeline and the limit are each measured twice, alternately, and each figure takes its higher
      // run: DynamoDB Local's JIT keeps warming for a while, and a passing load from elsewhere on the machine
      // should lower neither side more than the other.
      const throughputRun = (round: number) => {
        progress(`throughput ${round}/2: ${scale.throughputTransients} transients through the whole pipeline with no-op runners`);
        return pipeline({
          registry: 'noop',
          endpoints: { dynamodb: dynamodb.endpoint, sqs: sqs.endpoint },
          prefix: `${prefix}t${round}`,
          transients: scale.throughputTransients,
          ingest: { mode: 'bulk' },
          chaining: true,
          timeoutMs: 600_000,
          instrument: false,
        });
      };
      const firstThroughput = await throughputRun(1);
      // The store's rate at the concurrency the pipeline kept.
      const storeConcurrency = Math.max(1, Math.round(firstThroughput.dynamodbConcurrency));
      progress(`local limit 1/2 at the pipeline's concurrency (${storeConcurrency} DynamoDB calls in flight)`);
      const before = await limit('a', storeConcurrency);
      const throughputRuns = [firstThroughput, await throughputRun(2)];
      progress('local limit 2/2');
      const after = await limit('b', storeConcurrency);
      const limitPerSecond = Math.max(localLimitExecutionsPerSecond(before), localLimitExecutionsPerSecond(after));
      const executionsPerTransient = exampleRegistry.filter(isTransientRunner).length;
      const chainIngestPerSecond = Math.min(2, Math.max(0.2, (LATENCY_LOAD * limitPerSecond) / executionsPerTransient));
      const latencyTransients = Math.max(10, Math.round(chainIngestPerSecond * scale.latencyWindowSeconds));
      const latencyJob = { registry: 'example' as const, transients: latencyTransients, ingest: { mode: 'steady' as const, perSecond: chainIngestPerSecond } };
      const timeoutMs = Math.round((latencyTransients / chainIngestPerSecond) * 1000 + 300_000);
      progress(`chaining latency and request units: ${latencyTransients} transients, the example workflow, ${chainIngestPerSecond.toFixed(2)}/s`);
      const chained = await metered({ ...latencyJob, prefix: `${prefix}c`, chaining: true, timeoutMs });
      progress('the same with chaining off (schedule only)');
      const scheduleOnly = await metered({ ...latencyJob, prefix: `${prefix}s`, chaining: false, timeoutMs });

      progress(`dispatch read amplification: ${scale.readTransients} transients, ${scale.readyShare * 100}% ready`);
      const readAmplification = await measureReadAmplification({
        runners: exampleRegistry,
        fixturesDir: FIXTURES,
        dynamodbEndpoint: dynamodb.endpoint,
        meteredDynamodbEndpoint: dynamoProxy.endpoint,
        meter: dynamoMeter,
        sqsEndpoint: sqs.endpoint,
        task: DISPATCH_TASK,
        transients: scale.readTransients,
        readyShare: scale.readyShare,
        prefix: `${prefix}r`,
      });

      progress(`dispatcher memory: draining ${scale.backlog} ready transients`);
      const memory = await measureDispatcherMemory({
        runners: exampleRegistry,
        fixturesDir: FIXTURES,
        dynamodbEndpoint: dynamodb.endpoint,
        sqsEndpoint: sqs.endpoint,
        task: DISPATCH_TASK,
        backlog: scale.backlog,
        childScript: dispatcherChild,
        prefix: `${prefix}m`,
      });
      const floor = await measureFloorItem(dynamodb.endpoint, prefix);
      const problems = [...dynamoMeter.problems, ...sqsMeter.problems];
      if (problems.length > 0) throw new Error(`the wire meters could not read ${problems.length} exchanges, e.g. ${problems[0]}`);
      return {
        mode,
        readAmplification,
        throughputRuns,
        localLimits: [before, after],
        storeConcurrency,
        chained,
        scheduleOnly,
        chainIngestPerSecond,
        memory,
        systemRunners: scheduledSystemRunners(),
        floorItemWriteUnits: floor.writeUnits,
        floorItemBytes: floor.bytes,
        loadAverage: { start: startLoad, end: loadavg()[0] ?? 0, cores: cpus().length },
        elapsedMs: Date.now() - started,
      };
    } finally {
      await Promise.all([dynamoProxy.close(), sqsProxy.close()]);
    }
  } finally {
    await stopServices();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
};

/** The issue's figure: fresh transients' chaining latency while a backfill runs over 10,000 transients. */
const BACKFILL_TRANSIENTS = 10_000;

/** Fresh-transient chaining latency with and without a backfill running, on services of its own. */
const runBackfillLatency = async (backfillTransients: number, freshTransients: number): Promise<string[]> => {
  progress('starting DynamoDB Local and the SQS emulator for the backfill run');
  const [dynamodb, sqs] = await startLocalServices();
  try {
    const result = await measureBackfillLatency({
      runners: noopRegistry,
      fixturesDir: FIXTURES,
      endpoints: { dynamodb: dynamodb.endpoint, sqs: sqs.endpoint },
      tickMs: TICK_MS,
      prefix: `bf${Date.now().toString(36)}`,
      backfillTransients,
      freshTransients,
      freshPerSecond: 1,
      progress,
    });
    return renderBackfillLatency(result);
  } finally {
    await Promise.all([dynamodb.stop(), sqs.stop()]);
  }
};

const program = new Command()
  .name('bench')
  .description('measure dispatch, chaining, throughput, memory and AWS cost beside their naive baselines')
  .option('--quick', 'the quick run (about three minutes): 10,000 transients for read amplification, fewer workflow runs', false)
  .option('--measurements <file>', 'also write every measurement (each call counted, per operation and item kind) to this JSON file')
  .option('--backfill-transients <n>', `transients the backfill runs over while fresh ones' latency is measured (the issue's figure: ${BACKFILL_TRANSIENTS})`, (text) => Number(text), BACKFILL_TRANSIENTS)
  .option('--fresh-transients <n>', 'fresh transients ingested (one a second) with and without the backfill running', (text) => Number(text), 20)
  .option('--only-backfill', 'measure only the fresh-transient latency with and without a backfill', false)
  .action(async (options: { quick: boolean; measurements?: string; backfillTransients: number; freshTransients: number; onlyBackfill: boolean }) => {
    const backfillLines = await runBackfillLatency(options.backfillTransients, options.freshTransients);
    if (options.onlyBackfill) {
      for (const line of backfillLines) process.stdout.write(`${line}\n`);
      return;
    }
    const measurements = await runBenchmark(options.quick ? 'quick' : 'full');
    if (options.measurements) writeFileSync(options.measurements, `${JSON.stringify(measurements, null, 2)}\n`);
    const { summary, chained, scheduleOnly } = summarise(measurements);
    for (const line of [...renderReport(measurements, summary, chained, scheduleOnly), '', ...backfillLines]) process.stdout.write(`${line}\n`);
    process.stdout.write(`${renderJson(summary)}\n`);
    const missed = Object.entries(summary.goalsMet).filter(([, met]) => !met);
    if (missed.length > 0) {
      process.stderr.write(`goals missed: ${missed.map(([goal]) => goal).join(', ')}\n`);
      process.exitCode = 1;
    }
  });

program.parseAsync().catch((thrown: unknown) => {
  process.stderr.write(`✗ ${thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown)}\n`);
  process.exitCode = 1;
});
