/**
 * The code `cdk deploy` would upload, run as deployed. The app is synthesized with bundling (the cdk.out
 * assets, not the TypeScript sources), its template deployed onto DynamoDB Local, the SQS emulator and the
 * S3 emulator, each function's asset run in its own process with the template's environment and its own
 * credentials, behind recording proxies; Cutout download runs in a container (test/helpers/container-registry.ts):
 * its worker starts each run with ECS's RunTask, and the task's containers run as the task definition says, with the
 * task role's credentials (test/helpers/ecs-stand-in.ts, local-task.ts); the TNS bot's secret waits in a Secrets Manager stand-in, as an
 * operator would have created it, and points at the TNS stand-in. Blast's example transients then travel
 * the whole workflow, a retry and dead letters included; the system runners ingest from TNS (live and from
 * the daily file, revising a transient TNS changed), prune scratch data on S3 and count. The IAM contract
 * is checked: every call each function and each container run made is allowed by its role's policy in the
 * template, every action granted to a kind of function (or to the container runs' task roles) is used by one of
 * them, every action granted to a system runner (derived from its own declaration) is used by that runner, and a
 * task's execution role may only ship its logs.
 */
import { addMove, bucketOfRegisters, countBuckets } from '../../lib/domain/counts';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { CONTAINER_REGISTRY_MODULE, registry } from '../helpers/container-registry';
import { SystemTaskName } from '../../runners/system-tasks';
import { createEngine, documentClient } from '../../lib/bootstrap/create-engine';
import { ProcessingStatus } from '../../lib/domain/workflow';
import type { Engine } from '../../lib/engine/engine';
import { updateTransient } from '../../lib/engine/transitions';
import { resetRegister } from '../../lib/domain/workflow';
import { outputOf } from '../../lib/engine/operations';
import { ingestTransients } from '../../lib/engine/ingest';
import { localClientConfig } from '../../lib/local/services';
import { Compute, isPythonRunner, isTransientRunner } from '../../lib/runner';
import { COUNTER_SHARDS } from '../../lib/engine/store';
import { shardOf } from '../../lib/domain/ordering';
import { keys } from '../../lib/store/dynamodb';
import type { TaskRunnersStack } from '../../lib/stacks/task-runners-stack';
import { addTaskRunners } from '../../lib/stacks/task-runners-app';
import { METRICS_NAMESPACE, ServiceName } from '../../lib/engine/telemetry';
import { RUN_CONTAINER } from '../../lib/constructs/container-runner';
import { readTransientFile } from '../../lib/fixtures/transient-files';
import { TnsStandIn, loadTnsObjects } from '../../lib/local/tns-stand-in';
import { TNS_SECRET_NAME } from '../../runners/tns/credentials';
import { type RecordingProxy, startRecordingProxy } from '../helpers/aws-call-recorder';
import { allows, grantLines, grantsOfRole, requiredPermissions, roleOf } from '../helpers/iam';
import { LocalDeployment, taskRoleIds } from '../helpers/local-deployment';
import { type HttpApiResponse, LocalHttpApi } from '../helpers/local-http-api';
import { OPERATORS_GROUP } from '../../lib/settings/web-view';
import { CountsBody, DeadLettersBody, RedriveResultBody, ResetBody, RunDetailBody, RunnersBody, TransientBody, TransientsBody, WorkflowBody } from '../../lib/web/schemas';
import { waitFor } from '../helpers/local-stack';
import { S3Emulator } from '../helpers/s3-emulator';
import { runOfArtifactKey } from '../../lib/domain/artifacts';
import { SecretsManagerStandIn } from '../helpers/secrets-manager-stand-in';
import { logicalId } from '../helpers/stack';
import { type CfnTemplate, cfnTemplateSchema, resolveIntrinsics, resourcesOfType } from '../helpers/template';

const EXAMPLES = ['2010H', '2010ag', '2010ai'];
/** Actions the Lambda service (and ECS's agent, with a task's execution role) uses to ship logs; no code of ours calls them. */
const RUNTIME_ACTIONS = new Set(['logs:CreateLogStream', 'logs:PutLogEvents']);
/** The kind of a Python runner's function, which runs no handler of ours and so names no service. */
const PYTHON_RUNNER_KIND = 'python-runner';
const SCHEDULE_TICK_MS = 2_000;
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const TNS_INGESTION = SystemTaskName.TnsDataIngestion;
const MISSED_INGESTION = SystemTaskName.IngestMissedTnsTransients;
const PRUNING = SystemTaskName.PruneScratchData;
const SNAPSHOT = SystemTaskName.SnapshotTaskRegister;
const RECOUNT = SystemTaskName.RecountTransients;
// From the TNS stand-in: one made public a minute ago (the live ingestion's), one three days ago (only in the daily file).
const [LIVE, MISSED] = ['2011dt', '2011ox'].map((name) => {
  const object = loadTnsObjects().find((candidate) => candidate.objname === name);
  if (!object) throw new Error(`fixtures/tns/objects.yaml has no ${name}`);
  return object;
}) as [ReturnType<typeof loadTnsObjects>[number], ReturnType<typeof loadTnsObjects>[number]];

describe('Bundled assets on DynamoDB Local and the SQS emulator', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'blast-cdk-out-'));
  // The web view's page is not served here (CloudFront and the site's bucket are AWS's); its API is.
  const siteDir = mkdtempSync(join(tmpdir(), 'blast-site-'));
  writeFileSync(join(siteDir, 'index.html'), '<!doctype html><title>Blast</title>');
  let httpApi: LocalHttpApi;
  let stack: TaskRunnersStack;
  let template: CfnTemplate;
  let deployment: LocalDeployment;
  let proxies: { dynamodb: RecordingProxy; sqs: RecordingProxy; s3: RecordingProxy; secretsManager: RecordingProxy; lambda: RecordingProxy; ecs: RecordingProxy };
  let engine: Engine;
  let s3Emulator: S3Emulator;
  let secrets: SecretsManagerStandIn;
  let tns: TnsStandIn;
  let scheduling = true;
  let ticking: Promise<void> = Promise.resolve();
  let ticks = 0;
  const scheduleErrors: string[] = [];

  const workerOf = (task: string) => {
    const built = stack.transientRunners.find((candidate) => candidate.taskName === task);
    if (!built) throw new Error(`no runner for "${task}"`);
    return logicalId(built.worker.function);
  };
  /** The task role a container runner's runs sign with. */
  const taskRoleOf = (task: string) => {
    const built = stack.transientRunners.find((candidate) => candidate.taskName === task);
    if (!built?.container) throw new Error(`"${task}" does not run in a container`);
    return logicalId(built.container.taskRole);
  };
  const systemRunnerOf = (task: string) => {
    const built = stack.systemRunners.find((candidate) => candidate.taskName === task);
    if (!built) throw new Error(`no system runner "${task}"`);
    return { fn: logicalId(built.handler.function), rule: logicalId(built.schedule.rule) };
  };
  /** Resolves once `count` more rounds of schedules have fired and every invocation they made has returned. */
  const scheduleRounds = async (count: number, rule?: string) => {
    const target = ticks + count;
    await waitFor(`${count} rounds of schedules`, async () => ticks >= target, 180_000);
    await deployment.schedulesSettled(rule);
  };

  beforeAll(async () => {
    // The app exactly as `cdk synth` builds it (bin/app.ts), cdk-nag included, with the assets bundled and the web view,
    // from a registry with a container runner (its bundles run that registry).
    const app = new App({ outdir });
    stack = addTaskRunners(app, registry, { webView: { siteDir }, registryModule: CONTAINER_REGISTRY_MODULE });
    const assembly = app.synth();
    template = cfnTemplateSchema.parse(assembly.getStackByName(stack.stackName).template);

    // Each function signs with its logical id as access key, a container run with its task role's; the S3 emulator
    // checks keys, so it learns them.
    [s3Emulator, secrets, tns] = await Promise.all([
      S3Emulator.start([...resourcesOfType(template, 'AWS::Lambda::Function').map(([id]) => id), ...taskRoleIds(template)]),
      SecretsManagerStandIn.start({ region: REGION, account: ACCOUNT }),
      TnsStandIn.start({ objects: [LIVE, MISSED], publishedAt: (object) => Date.now() - (object === LIVE ? 60_000 : 3 * 86_400_000) }),
    ]);
    // What an operator does before enabling the TNS runners (docs/deploying.md: Secrets).
    secrets.createSecret(TNS_SECRET_NAME, tns.environment());
    const direct = { dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint'), s3: s3Emulator.endpoint, secretsManager: secrets.endpoint };
    const [dynamodb, sqs, s3, secretsManager, lambda, ecs] = await Promise.all([
      startRecordingProxy('dynamodb', direct.dynamodb),
      startRecordingProxy('sqs', direct.sqs),
      startRecordingProxy('s3', direct.s3),
      startRecordingProxy('secretsmanager', direct.secretsManager),
      // The deployment's own Invoke endpoint for the Python runners' functions, once it is deployed.
      startRecordingProxy('lambda', () => deployment.lambdaEndpoint ?? 'http://127.0.0.1:9'),
      // Its ECS stand-in, which starts the container runs' tasks.
      startRecordingProxy('ecs', () => deployment.ecsEndpoint ?? 'http://127.0.0.1:9'),
    ]);
    proxies = { dynamodb, sqs, s3, secretsManager, lambda, ecs };
    deployment = await LocalDeployment.deploy({
      template,
      assemblyDir: assembly.directory,
      prefix: `b${process.pid.toString(36)}${Date.now().toString(36)}`,
      direct,
      forFunctions: { dynamodb: dynamodb.endpoint, sqs: sqs.endpoint, s3: s3.endpoint, secretsManager: secretsManager.endpoint, lambda: lambda.endpoint, ecs: ecs.endpoint },
    });
    httpApi = LocalHttpApi.of(deployment);
    engine = createEngine(
      { tableName: deployment.tableName(), queueUrls: {}, deadLetterQueueArns: {}, fixturesDir: 'fixtures', retryBaseSeconds: 10 },
      { serviceName: 'test', runners: registry, dynamo: new DynamoDBClient(localClientConfig(direct.dynamodb)), sqs: new SQSClient(localClientConfig(direct.sqs)) },
    );
    await deployment.startEventSources();
    // The recount's hourly schedule stays off until its own tests. Fired every tick through the workflow, each of its
    // runs would meet a counter update in flight and wait out COUNTER_UPDATE_MAX_DELAY_MS (90 s) before trusting the
    // difference, and every test that waits for the schedules to settle would wait with it.
    deployment.setScheduleEnabled(systemRunnerOf(RECOUNT).rule, false);
    // EventBridge, shortened: every enabled schedule fires its target every tick.
    ticking = (async () => {
      while (scheduling) {
        // Fired without waiting for the invocations, as EventBridge does; a slow one holds up no other.
        void deployment.fireSchedules().catch((error: unknown) => scheduleErrors.push(String(error)));
        ticks++;
        await new Promise((resolve) => setTimeout(resolve, SCHEDULE_TICK_MS));
      }
    })();
  }, 360_000);

  afterAll(async () => {
    scheduling = false;
    await ticking;
    await deployment?.schedulesSettled();
    await deployment?.stop();
    await Promise.all([proxies?.dynamodb.stop(), proxies?.sqs.stop(), proxies?.s3.stop(), proxies?.secretsManager.stop(), proxies?.lambda.stop(), proxies?.ecs.stop()]);
    await Promise.all([s3Emulator?.stop(), secrets?.stop(), tns?.stop()]);
    rmSync(outdir, { recursive: true, force: true });
    rmSync(siteDir, { recursive: true, force: true });
  });

  const finished = (names: readonly string[], timeoutMs = 90_000) =>
    waitFor(
      `${names.join(', ')} to finish`,
      async () => {
        const records = await engine.store.transients.getMany(names);
        return records.length === names.length && records.every((record) => record.processingStatus !== ProcessingStatus.Processing) && records;
      },
      timeoutMs,
    );

  it('bundles no fault injection, local runtime or CLI code into any function: the sources of every source map', () => {
    const maps = readdirSync(outdir)
      .filter((entry) => entry.startsWith('asset.') && statSync(join(outdir, entry)).isDirectory())
      .flatMap((entry) => readdirSync(join(outdir, entry)).filter((file) => file.endsWith('.map')).map((file) => join(outdir, entry, file)))
      .map((file) => JSON.parse(readFileSync(file, 'utf8')) as { sources: string[] });
    const sources = maps.flatMap((map) => map.sources);
    // Every entry point's bundle is there (functions with the same entry share one asset).
    for (const entry of ['transient-worker', 'dispatcher', 'system-worker', 'dead-letter']) expect(sources.some((source) => source.endsWith(`functions/${entry}.ts`))).toBe(true);
    expect(sources.filter((source) => /(^|\/)(lib\/chaos|lib\/local|lib\/cli|bin)\//.test(source))).toEqual([]);
  });

  it("runs Blast's example transients through the whole workflow, Cutout download in containers, sending around failed sends and retrying a failed container run", async () => {
    // Prepare: Host match's first send to its successors' queue fails as if SQS refused it, and so does a Cutout
    // download container run's; 2010ai's first container run cannot write its artifact.
    const cutoutRuns = taskRoleOf('Cutout download');
    const sendFaults = new Set<string>();
    proxies.sqs.fault = (call) => {
      const sender = [workerOf('Host match'), cutoutRuns].find((key) => key === call.accessKeyId);
      if (!sender || sendFaults.has(sender) || call.operation !== 'SendMessageBatch') return undefined;
      sendFaults.add(sender);
      return { status: 400, type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'injected by the test', queryErrorCode: 'AWS.SimpleQueueService.NonExistentQueue' };
    };
    let artifactFaults = 0;
    proxies.s3.fault = (call) => {
      if (artifactFaults > 0 || call.accessKeyId !== cutoutRuns || call.method !== 'PUT' || !call.path.includes('/2010ai/')) return undefined;
      artifactFaults++;
      return { status: 403, type: 'AccessDenied', message: 'injected by the test' };
    };
    const examples = readTransientFile('fixtures/sample_transients.yaml').transients.filter((transient) => EXAMPLES.includes(transient.name));

    // Act: ingest as the CLI does; the schedules' dispatcher runs send the first tasks
    const ingested = await ingestTransients(engine, examples);
    const records = await finished(EXAMPLES);
    proxies.s3.fault = undefined;

    // Assess
    expect(ingested.created).toBe(3);
    const byName = new Map(records.map((record) => [record.transient.name, record]));
    expect(byName.get('2010H')?.processingStatus).toBe(ProcessingStatus.Completed);
    expect(byName.get('2010ag')?.processingStatus).toBe(ProcessingStatus.Completed);
    for (const task of engine.workflow.order) expect(byName.get('2010H')?.registers[task]).toMatchObject({ status: 'processed', attempt: 1 });
    expect(byName.get('2010ai')?.registers['Host match']?.status).toBe('no GHOST match');
    expect(byName.get('2010ai')?.processingStatus).toBe(ProcessingStatus.Blocked);
    expect(await outputOf(engine, '2010H', 'Host information')).toMatchObject({ redshift: 0.015355, redshiftSource: 'host' });
    // The refused sends became ready markers that a dispatcher run sent on.
    expect([...sendFaults].sort()).toEqual([workerOf('Host match'), cutoutRuns].sort());
    for (const sender of sendFaults) expect(proxies.dynamodb.calls.some((call) => call.accessKeyId === sender && call.operation === 'BatchWriteItem')).toBe(true);
    // 2010ai's failed container run set its retry (its message hidden for the backoff), and the next run finished it.
    expect(artifactFaults).toBe(1);
    expect(byName.get('2010ai')?.registers['Cutout download']).toMatchObject({ status: 'processed', attempt: 2 });
    expect(proxies.sqs.calls.some((call) => call.accessKeyId === cutoutRuns && call.operation === 'ChangeMessageVisibility')).toBe(true);
    expect(scheduleErrors).toEqual([]);
  }, 120_000);

  it('retries a run that threw after the backoff, and records it when it succeeds', async () => {
    // Prepare: Host information runs again for 2010ag, without the Host match output it needs
    const doc = documentClient(new DynamoDBClient(localClientConfig(inject('dynamodbEndpoint'))));
    const token = (await engine.store.transients.get('2010ag'))?.registers['Host match']?.claim ?? '';
    const match = await outputOf(engine, '2010ag', 'Host match');
    await doc.send(new DeleteCommand({ TableName: deployment.tableName(), Key: keys.output('2010ag', 'Host match', token) }));

    // Act: reset the register, as a retrigger does; the dispatcher sends it, the runner throws
    await updateTransient(engine, '2010ag', (record) => ({ 'Host information': resetRegister(engine.clock(), record.registers['Host information']) }));
    const failed = await waitFor('the first attempt to fail', async () => {
      const register = (await engine.store.transients.get('2010ag'))?.registers['Host information'];
      return register?.lastError !== undefined && register.status === 'not processed' && register;
    });
    await engine.store.outputs.save('2010ag', 'Host match', token, { data: match ?? {} }, engine.clock());
    const retried = await waitFor('the retry to succeed', async () => {
      const record = await engine.store.transients.get('2010ag');
      return record?.registers['Host information']?.status === 'processed' && record.processingStatus === ProcessingStatus.Completed && record;
    }, 60_000);

    // Assess
    expect(failed).toMatchObject({ attempt: 1 });
    expect(failed.lastError).toMatch(/Host match.*saved no output/);
    expect(retried.registers['Host information']).toMatchObject({ status: 'processed', attempt: 2 });
    expect(retried.processingStatus).toBe(ProcessingStatus.Completed);
    const delays = proxies.sqs.calls.filter((call) => call.accessKeyId === workerOf('Host information') && call.operation === 'ChangeMessageVisibility');
    expect(delays.map((call) => call.body.VisibilityTimeout)).toEqual([expect.any(Number)]);
    expect(delays[0]?.body.VisibilityTimeout).toBeGreaterThanOrEqual(5);
  }, 90_000);

  it('records the error status of a dead letter and keeps it for redrive, and files an unreadable one', async () => {
    // Prepare: what SQS's redrive moves to the dead-letter queues after maxReceiveCount deliveries
    const sqs = new SQSClient(localClientConfig(inject('sqsEndpoint')));
    const queueUrl = (task: string, which: 'queue' | 'deadLetterQueue') => {
      const built = stack.transientRunners.find((candidate) => candidate.taskName === task);
      const queue = built && deployment.names.queues.get(logicalId(built[which]));
      if (!queue) throw new Error(`no ${which} for "${task}"`);
      return queue.url;
    };

    // Act: two dead letters as SQS moves them, and a poison message the Host match worker moves at once
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl('Host information', 'deadLetterQueue'), MessageBody: JSON.stringify({ transient: '2010ai', task: 'Host information', readyAt: Date.now() }) }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl('Host match', 'deadLetterQueue'), MessageBody: 'not a task message' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl('Host match', 'queue'), MessageBody: JSON.stringify({ transient: 'never-ingested', task: 'Host match', readyAt: 0 }) }));
    const recorded = await waitFor('the dead letters to be recorded', async () => {
      const [information, match] = await Promise.all([engine.store.deadLetters.page('Host information', 100), engine.store.deadLetters.page('Host match', 100)]);
      return information.items.length > 0 && match.items.length > 1 && { information: information.items, match: match.items };
    });
    sqs.destroy();

    // Assess
    expect((await engine.store.transients.get('2010ai'))?.registers['Host information']).toMatchObject({ status: 'failed', deadLettered: true });
    expect(recorded.information).toEqual([expect.objectContaining({ name: '2010ai', reason: expect.stringMatching(/recorded "failed"/) })]);
    expect(recorded.match).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ reason: expect.stringMatching(/not JSON/) }),
        expect.objectContaining({ name: 'never-ingested', reason: expect.stringMatching(/unknown transient/), receiveCount: 1 }),
      ]),
    );
    // The worker sent it there itself, on its first delivery (its SendMessage grant is checked by the IAM contract below).
    const moved = proxies.sqs.calls.filter((call) => call.accessKeyId === workerOf('Host match') && call.operation === 'SendMessage');
    expect(moved.map((call) => call.body.QueueUrl)).toEqual([queueUrl('Host match', 'deadLetterQueue')]);
  }, 60_000);

  it('sends on what a message finished before its worker died on its last delivery (issue 11, finding 2)', async () => {
    // Prepare: 2010H's Host match settled "processed" on its final delivery, and the worker died before sending
    // Host information (its register reads "not processed", with no message and no marker anywhere).
    const SUCCESSOR = 'Host information';
    const before = await engine.store.transients.get('2010H');
    if (!before) throw new Error('2010H is missing');
    const registers = { ...before.registers, [SUCCESSOR]: resetRegister(engine.clock(), before.registers[SUCCESSOR]) };
    const bucket = bucketOfRegisters(engine.workflow, registers);
    await engine.store.transients.replace('2010H', before, { [SUCCESSOR]: registers[SUCCESSOR] }, bucket);
    // Counted, as the write that left it so would have counted it: the recount below finds the counters true.
    await engine.store.counters.add(shardOf('2010H', COUNTER_SHARDS), addMove({}, before.bucket, bucket));
    const built = stack.transientRunners.find((candidate) => candidate.taskName === 'Host match');
    const deadLetterQueue = built && deployment.names.queues.get(logicalId(built.deadLetterQueue));
    if (!deadLetterQueue) throw new Error('no dead-letter queue for Host match');
    const sqs = new SQSClient(localClientConfig(inject('sqsEndpoint')));

    // Act: SQS moves its message to the dead-letter queue
    await sqs.send(new SendMessageCommand({ QueueUrl: deadLetterQueue.url, MessageBody: JSON.stringify({ transient: '2010H', task: 'Host match', readyAt: Date.now() }) }));
    sqs.destroy();
    const rerun = await waitFor('Host information to run again', async () => {
      const record = await engine.store.transients.get('2010H');
      return record?.registers[SUCCESSOR]?.status === 'processed' && record.processingStatus === ProcessingStatus.Completed && record;
    }, 60_000);

    // Assess: the dead-letter handler left a ready marker, which a dispatcher run sent
    const handler = logicalId(stack.deadLetterHandler.handler.function);
    expect(proxies.dynamodb.calls.some((call) => call.accessKeyId === handler && call.operation === 'BatchWriteItem')).toBe(true);
    expect(rerun.registers[SUCCESSOR]?.claim).not.toBe(before.registers[SUCCESSOR]?.claim);
    expect((await engine.store.deadLetters.page('Host match', 100)).items).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: '2010H', reason: 'nothing recorded: the task was already "processed"' })]),
    );
  }, 90_000);

  describe('System runners', () => {
    it('ingests what TNS made public, with the bot\'s credentials read from Secrets Manager, and runs it through the workflow', async () => {
      // Prepare
      const runner = systemRunnerOf(TNS_INGESTION);

      // Act: an operator enables the schedule once the secret is in place (it starts disabled, as in Blast)
      deployment.setScheduleEnabled(runner.rule, true);
      const [live] = await finished([LIVE.objname]);
      deployment.setScheduleEnabled(runner.rule, false);
      await scheduleRounds(2, runner.rule);

      // Assess: the transient as TNS describes it, its workflow run, the secret read by that function alone
      expect(live?.transient).toMatchObject({ name: LIVE.objname, raDeg: LIVE.radeg, decDeg: LIVE.decdeg });
      expect(live?.registers['Cutout download']?.status).toBe('processed');
      expect(await engine.store.transients.get(MISSED.objname)).toBeUndefined();
      expect(tns.requests.filter((request) => request.status === 401)).toEqual([]);
      expect(tns.requests.map((request) => request.path)).toContain('/api/get/object');
      const secretReaders = new Set(proxies.secretsManager.calls.map((call) => call.accessKeyId));
      expect([...secretReaders]).toEqual([runner.fn]);
      expect(scheduleErrors).toEqual([]);
    }, 180_000);

    it('ingests the daily file: a missed transient for the dispatcher, a revised one reset and sent at once', async () => {
      // Prepare: TNS refines the live transient's coordinates
      const runner = systemRunnerOf(MISSED_INGESTION);
      const before = await engine.store.transients.get(LIVE.objname);
      const revisedRa = Number(LIVE.radeg) + 0.0003;
      tns.revise(LIVE.objname, { radeg: revisedRa });

      // Act
      deployment.setScheduleEnabled(runner.rule, true);
      const checkpoint = await waitFor('the daily file to be ingested', async () => {
        const state = await engine.store.systemState.read(MISSED_INGESTION);
        return state?.finished === true && state;
      }, 120_000);
      deployment.setScheduleEnabled(runner.rule, false);
      const rerun = await waitFor('the revised transient to run again', async () => {
        const record = await engine.store.transients.get(LIVE.objname);
        const cutout = record?.registers['Cutout download'];
        return record?.processingStatus !== ProcessingStatus.Processing && (cutout?.lastModified ?? 0) > (before?.registers['Cutout download']?.lastModified ?? 0) && record;
      }, 120_000);
      const [missed] = await finished([MISSED.objname]);
      await scheduleRounds(2);

      // Assess
      expect(checkpoint).toMatchObject({ rowsDone: 2 });
      expect(rerun.transient.raDeg).toBe(revisedRa);
      expect(rerun.registers['Cutout download']?.status).toBe('processed');
      expect(missed?.transient).toMatchObject({ name: MISSED.objname, raDeg: MISSED.radeg });
      // The revision recorded what it reset as ready markers in its own transaction, and deleted those it sent at once.
      const calls = proxies.dynamodb.calls.filter((call) => call.accessKeyId === runner.fn).map((call) => call.operation);
      expect(calls).toEqual(expect.arrayContaining(['TransactWriteItems', 'BatchWriteItem']));
      expect(scheduleErrors).toEqual([]);
    }, 240_000);

    it('recounts the counters from the status index and finds them true, the workflow at rest', async () => {
      // Prepare: the counters as every write moved them (the repair of a drift waits 90 s, COUNTER_UPDATE_MAX_DELAY_MS,
      // so it is tested on DynamoDB Local with a shorter settle: test/integration/system-runners.test.ts)
      const recount = systemRunnerOf(RECOUNT);
      const truth = async () => {
        const counts = await Promise.all(Array.from({ length: COUNTER_SHARDS }, (_, shard) => engine.store.transients.countShard(shard)));
        return Object.fromEntries(countBuckets.map((bucket) => [bucket, counts.reduce((sum, shard) => sum + shard[bucket], 0)]));
      };
      const recounted = () =>
        (deployment.functions.get(recount.fn)?.host.output ?? [])
          .map((line) => z.record(z.string(), z.unknown()).parse(JSON.parse(line)))
          .filter((entry) => entry.message === 'counters recounted');

      // Act: its hourly schedule fires every tick from now on (and stays on for the recovery below)
      deployment.setScheduleEnabled(recount.rule, true);
      // (A run that finds a difference waits 90 s before it repairs it, and logs only then.)
      const [logged] = await waitFor('a recount run to log its counts', async () => recounted().length > 0 && recounted(), 60_000);

      // Assess: it counted the index, found the counters agreeing with it, and repaired nothing
      const expected = await truth();
      expect(logged).toMatchObject({ counted: expect.objectContaining(expected), before: expect.objectContaining(expected), repaired: 0, busy: 0 });
      expect(expected.completed).toBeGreaterThan(0);
      expect(proxies.dynamodb.calls.some((call) => call.accessKeyId === recount.fn && call.operation === 'Query')).toBe(true);
      expect(scheduleErrors).toEqual([]);
    }, 90_000);

    it('recovers a task whose run died after its message was deleted, and the workflow goes on', async () => {
      // Prepare: "processing", claimed long ago, no message left (counted, so the counters stay true)
      const stalled = readTransientFile('fixtures/sample_transients.yaml').transients.find((transient) => transient.name === '2011on');
      if (!stalled) throw new Error('no sample transient 2011on');
      const registers = { 'Cutout download': { status: 'processing', claim: 'gone0000.t1', lastModified: 1, leaseUntil: 1, attempt: 1 } };
      const bucket = bucketOfRegisters(engine.workflow, registers);
      await engine.store.transients.create([{ transient: stalled, registers, bucket, markers: [] }], Date.now());
      await engine.store.counters.add(shardOf(stalled.name, COUNTER_SHARDS), { [bucket]: 1 });

      // Act: the recount's next run recovers it (its schedule is on since the test above); the dispatcher sends it
      const recount = systemRunnerOf(RECOUNT);
      await waitFor('the recount to recover it', async () => {
        const register = (await engine.store.transients.get(stalled.name))?.registers['Cutout download'];
        return register !== undefined && register.claim !== 'gone0000.t1';
      }, 60_000);
      // Off again before the workflow moves the counters: a run meeting a move in flight would wait out the 90 s settle.
      deployment.setScheduleEnabled(recount.rule, false);
      const [recovered] = await finished([stalled.name]);

      // Assess
      expect(recovered?.registers['Cutout download']).toMatchObject({ status: 'processed' });
      expect(recovered?.registers['Cutout download']?.claim).not.toBe('gone0000.t1');
      expect(scheduleErrors).toEqual([]);
    }, 240_000);

    it('prunes old scratch data under the prefix on S3 and keeps the recent and what lies outside it', async () => {
      // Prepare: scratch data of a finished transient, one object old and one new, and an old object elsewhere
      if (!stack.scratch) throw new Error('the stack has no scratch bucket, although a runner declares scratchAccess');
      const { prefix } = stack.scratch;
      const bucket = deployment.bucketName(logicalId(stack.scratch.bucket));
      const s3 = new S3Client({ ...localClientConfig(s3Emulator.endpoint), forcePathStyle: true });
      const old = new Date(Date.now() - 2 * 86_400_000);
      const keys = { old: `${prefix}2010H/cutout.fits`, recent: `${prefix}2010H/sed.json`, outside: 'elsewhere/notes.txt' };
      for (const key of Object.values(keys)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'data' }));
      s3Emulator.backdate(bucket, keys.old, old);
      s3Emulator.backdate(bucket, keys.outside, old);
      const listed = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).flatMap((object) => object.Key ?? []).sort();

      // Act: its hourly schedule fires every tick here
      const remaining = await waitFor('the old scratch object to be pruned', async () => {
        const keysNow = await listed();
        return !keysNow.includes(keys.old) && keysNow;
      }, 60_000);
      s3.destroy();

      // Assess: the artifacts left (under their own prefix) are those of the runs the registers hold
      const { artifactPrefix } = stack.scratch;
      expect(remaining.filter((key) => !key.startsWith(artifactPrefix))).toEqual([keys.outside, keys.recent].sort());
      const artifactsLeft = remaining.filter((key) => key.startsWith(artifactPrefix)).map((key) => runOfArtifactKey(key.slice(artifactPrefix.length)));
      expect(artifactsLeft.length).toBeGreaterThan(0);
      for (const run of artifactsLeft) expect((await engine.store.transients.get(run?.transient ?? ''))?.registers[run?.task ?? '']?.claim).toBe(run?.runId);
      // Only the pruner lists and deletes; the workers and container runs put and get their runs' artifacts (and the
      // container runs' fetch gets their code).
      const pruner = systemRunnerOf(PRUNING).fn;
      const others = proxies.s3.calls.filter((call) => call.accessKeyId !== pruner).map((call) => new URL(call.path, 'http://s3').searchParams.get('x-id'));
      expect([...new Set(others)].sort()).toEqual(['GetObject', 'PutObject']);
    }, 90_000);
  });

  describe('The web API, called through the HTTP API as the page calls it', () => {
    // The claims API Gateway's JWT authorizer passes on from a valid access token of the user pool.
    const operator = { sub: 'operator-1', username: 'ada', 'cognito:groups': [OPERATORS_GROUP] };
    const viewer = { sub: 'viewer-1', username: 'vera', 'cognito:groups': ['astronomers'] };
    const answered = <T extends z.ZodType>(response: HttpApiResponse | undefined, schema: T): z.infer<T> => {
      expect(response).toMatchObject({ status: 200, fn: { serviceName: ServiceName.WebApi } });
      return schema.parse(response?.body);
    };

    it('refuses a call without a token before its function, and the controls to a signed-in user outside the operators group', async () => {
      // Act
      const anonymous = await httpApi.request({ method: 'GET', path: '/transients' });
      const refused = await httpApi.request({ method: 'POST', path: '/transients/2010ai/retrigger', claims: viewer });

      // Assess
      expect(anonymous).toEqual({ status: 401, body: { message: 'Unauthorized' } });
      expect(refused).toMatchObject({ status: 403, fn: { serviceName: ServiceName.WebApi } });
      expect((await engine.store.transients.get('2010ai'))?.registers['Host information']).toMatchObject({ status: 'failed', deadLettered: true });
    });

    it('answers the reads from the deployed table and queues: the grid, one transient and one of its runs, the runners, the dead letters, the counts', async () => {
      // Act: what the page reads, as a signed-in astronomer
      const read = (path: string) => httpApi.request({ method: 'GET', path, claims: viewer });
      const [workflow, grid, blocked, one, runners, deadLetters, counts] = await Promise.all(
        ['/workflow', '/transients?limit=200', '/transients?status=blocked', '/transients/2010H', '/runners', '/dead-letters', '/counts'].map(read),
      );

      // Assess
      expect(answered(workflow, WorkflowBody).tasks.map((task) => task.name)).toEqual(engine.workflow.order);
      expect(answered(grid, TransientsBody).items.map((row) => row.name)).toEqual(expect.arrayContaining([...EXAMPLES, LIVE.objname, MISSED.objname]));
      expect(answered(blocked, TransientsBody).items.map((row) => row.name)).toContain('2010ai');
      const transient = answered(one, TransientBody);
      expect(transient.registers.find((register) => register.task === 'Host information')?.output?.data).toMatchObject({ redshift: 0.015355 });
      // The attempt the register holds, read back from the run history as the page's timeline opens it.
      const current = transient.runs.find((run) => run.task === 'Host information' && run.current);
      const detail = answered(await read(`/transients/2010H/runs/${encodeURIComponent('Host information')}/${encodeURIComponent(current?.run ?? '')}`), RunDetailBody);
      expect(detail).toMatchObject({ task: 'Host information', status: 'processed', output: { data: { redshift: 0.015355 } } });
      const runner = answered(runners, RunnersBody).runners.find((candidate) => candidate.task === 'Host match');
      expect(runner).toMatchObject({ kind: 'transient', queue: { visible: expect.any(Number) }, deadLetterQueue: { visible: expect.any(Number) }, ready: { waiting: expect.any(Number) } });
      expect(answered(deadLetters, DeadLettersBody).deadLetters).toEqual(expect.arrayContaining([expect.objectContaining({ task: 'Host information', name: '2010ai', statusNow: 'failed' })]));
      const counted = answered(counts, CountsBody);
      expect(counted.total).toBe(counted.waiting + counted.processing + counted.blocked + counted.completed);
      expect(counted.total).toBeGreaterThanOrEqual(EXAMPLES.length + 2);
    });

    it("redrives a dead letter, retriggers and reprocesses transients as an operator, and the workflow runs what they reset", async () => {
      // Prepare
      const before = await engine.store.transients.getMany(['2010ai', '2010ag']);
      const control = (path: string, body?: unknown) => httpApi.request({ method: 'POST', path, claims: operator, ...(body === undefined ? {} : { body }) });

      // Act: the dead letter first (a retrigger would reset its register, leaving nothing to redrive)
      const redriven = answered(await control('/dead-letters/Host%20information/redrive', { names: ['2010ai'] }), RedriveResultBody);
      const retriggered = answered(await control('/transients/2010ai/retrigger'), ResetBody);
      const reprocessed = answered(await control('/transients/2010ag/reprocess'), ResetBody);
      const records = await finished(['2010ai', '2010ag']);

      // Assess
      expect(redriven).toMatchObject({ redriven: ['2010ai'], skipped: [], unsent: [] });
      expect((await engine.store.deadLetters.page('Host information', 100)).items.map((record) => record.name)).not.toContain('2010ai');
      expect(retriggered.reset.map((reset) => reset.task)).toContain('Host match');
      expect(reprocessed).toMatchObject({ before: ProcessingStatus.Completed, reset: expect.arrayContaining([{ task: 'Host information', from: 'processed' }]) });
      const byName = (list: typeof records) => new Map(list.map((record) => [record.transient.name, record]));
      const [was, now] = [byName(before), byName(records)];
      expect(now.get('2010ai')?.registers['Host match']?.status).toBe('no GHOST match');
      expect(now.get('2010ai')?.registers['Host match']?.claim).not.toBe(was.get('2010ai')?.registers['Host match']?.claim);
      expect(now.get('2010ag')?.processingStatus).toBe(ProcessingStatus.Completed);
      expect(now.get('2010ag')?.registers['Host information']?.claim).not.toBe(was.get('2010ag')?.registers['Host information']?.claim);
      expect(scheduleErrors).toEqual([]);
    }, 120_000);
  });

  describe('IAM contract', () => {
    /**
     * Who signs calls, by access key: each function (its logical id, its role the template's) and each container run
     * (its task role's logical id: the role itself).
     */
    const principals = () =>
      new Map<string, { role: string; kind: string }>([
        ...[...deployment.functions.values()].map((fn) => [fn.logicalId, { role: roleOf(template, fn.logicalId), kind: fn.runtime === 'python' ? PYTHON_RUNNER_KIND : fn.serviceName }] as const),
        ...deployment.taskDefinitions.flatMap((definition) => (definition.taskRoleId ? [[definition.taskRoleId, { role: definition.taskRoleId, kind: ServiceName.ContainerRun }] as const] : [])),
      ]);
    const callsByPrincipal = () => {
      const known = principals();
      return [...proxies.dynamodb.calls, ...proxies.sqs.calls, ...proxies.s3.calls, ...proxies.secretsManager.calls, ...proxies.lambda.calls, ...proxies.ecs.calls]
        .filter((call) => known.has(call.accessKeyId))
        .map((call) => ({
          principal: call.accessKeyId,
          role: known.get(call.accessKeyId)?.role ?? '',
          call,
          needs: requiredPermissions(call, {
            tableArn: (table) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}`,
            queueArn: (url) => deployment.queueByUrl(url)?.arn ?? `unknown queue ${url}`,
            secretArn: (id) => secrets.find(id)?.arn ?? `unknown secret ${id}`,
            functionArn: (name) => deployment.functionNamed(name).arn,
            ...deployment.ecsArns,
          }),
        }));
    };

    it('ran every function of the template', () => {
      // A function ran when it made a call, or was invoked (a Python runner's function, which makes none of its own).
      const calls = callsByPrincipal();
      const invoked = calls.flatMap(({ needs }) =>
        needs.flatMap((need) => (need.action === 'lambda:InvokeFunction' ? [[...deployment.functions.values()].find((fn) => fn.arn === need.resource)?.logicalId ?? need.resource] : [])),
      );
      const ran = new Set([...calls.map(({ principal }) => principal), ...invoked]);
      expect([...deployment.functions.keys()].filter((fn) => !ran.has(fn))).toEqual([]);
    });

    it('started every task definition of the template from its worker, and each task ran its containers to a clean end with its task role', async () => {
      // Prepare: the workflow is at rest; every task started has stopped, or stops once its run has settled.
      const ended = await Promise.all(deployment.tasks.map(async ({ definition, task }) => ({ definition: definition.logicalId, reason: await task.stopped, task })));
      const runTasks = proxies.ecs.calls.filter((call) => call.operation === 'RunTask');

      // Assess: every definition was started by its runner's worker (the one whose CONTAINER_TASKS names it)
      expect(deployment.taskDefinitions.length).toBeGreaterThan(0);
      for (const definition of deployment.taskDefinitions) {
        const worker = stack.transientRunners.find((built) => built.container && logicalId(built.container.taskDefinition) === definition.logicalId);
        const starters = new Set(runTasks.filter((call) => call.body.taskDefinition === definition.arn).map((call) => call.accessKeyId));
        expect([...starters]).toEqual([worker ? logicalId(worker.worker.function) : 'no worker']);
      }
      expect(new Set(ended.map(({ definition }) => definition))).toEqual(new Set(deployment.taskDefinitions.map(({ logicalId: id }) => id)));
      expect(ended.length).toBe(runTasks.length);
      const runEnds: unknown[] = [];
      for (const { reason, task } of ended) {
        // The fetch container copied the code (its exit 0 let the run start); the run ended and exited 0.
        expect([...task.containers.values()].map((container) => [container.name, container.exit])).toEqual(task.specs.map((spec) => [spec.name, 0]));
        expect(reason).toMatch(/^Essential container in task exited \(run: 0\)$/);
        // The run wrote only JSON lines (its logs and EMF documents, which its log group keeps), as a function does.
        const lines = (task.containers.get(RUN_CONTAINER)?.output ?? []).map((line) => z.record(z.string(), z.unknown()).parse(JSON.parse(line)));
        expect(lines.filter((entry) => entry.service !== ServiceName.ContainerRun)).toEqual([]);
        runEnds.push(...lines.filter((entry) => entry.message === 'container run ended').map((entry) => entry.ended));
      }
      // Each run ended once: settled, or (2010ai's first, which could not write its artifact) its retry set.
      expect(runEnds.length).toBe(ended.length);
      expect([...new Set(runEnds)].sort()).toEqual(['retrying', 'settled']);
      // The runs signed their calls with their task roles, and nothing signed with an execution role.
      const signers = new Set([...proxies.dynamodb.calls, ...proxies.sqs.calls, ...proxies.s3.calls].map((call) => call.accessKeyId));
      for (const definition of deployment.taskDefinitions) {
        expect(signers).toContain(definition.taskRoleId);
        expect(signers).not.toContain(definition.executionRoleId);
      }
    }, 60_000);

    it('allowed every call a function or a container run made: its role\'s policy in the template grants the action on the resource', () => {
      const grants = new Map([...principals().values()].map(({ role }) => [role, grantsOfRole(template, role, deployment.resolver)]));
      const calls = callsByPrincipal();
      const denied = calls.flatMap(({ principal, role, call, needs }) =>
        needs
          .filter((need) => !allows(grants.get(role) ?? [], need.action, need.resource, need.context))
          .map((need) => `${principal} ${call.operation}: ${need.action} on ${need.resource}${need.context ? ` ${JSON.stringify(need.context)}` : ''}`),
      );
      expect(calls.length).toBeGreaterThan(100);
      expect(calls.some(({ call }) => call.service === 'ecs')).toBe(true);
      expect([...new Set(denied)]).toEqual([]);
    });

    it('used every action granted to each kind of function and to the container runs, outside the log shipping the Lambda service does', () => {
      const kinds = new Map<string, { granted: Set<string>; used: Set<string> }>();
      const kindOf = (principal: string) => {
        const name = principals().get(principal)?.kind ?? 'unknown';
        const kind = kinds.get(name) ?? { granted: new Set<string>(), used: new Set<string>() };
        kinds.set(name, kind);
        return kind;
      };
      for (const [principal, { role }] of principals()) {
        const kind = kindOf(principal);
        for (const grant of grantsOfRole(template, role, deployment.resolver)) if (!RUNTIME_ACTIONS.has(grant.action)) kind.granted.add(grant.action);
      }
      for (const { principal, needs } of callsByPrincipal()) for (const need of needs) kindOf(principal).used.add(need.action);

      // Every kind of function the registry deploys; a system runner adds its own kind, whose grants its run must use;
      // a container runner its task role (its worker's ecs:RunTask and iam:PassRole are the transient workers').
      const expectedKinds: string[] = [ServiceName.DeadLetter, ServiceName.Dispatcher, ServiceName.TransientWorker, ServiceName.WebApi];
      if (registry.some((candidate) => !isTransientRunner(candidate))) expectedKinds.push(ServiceName.SystemWorker);
      if (registry.some(isPythonRunner)) expectedKinds.push(PYTHON_RUNNER_KIND);
      if (registry.some((candidate) => isTransientRunner(candidate) && candidate.compute === Compute.Container)) expectedKinds.push(ServiceName.ContainerRun);
      expect([...kinds.keys()].sort()).toEqual(expectedKinds.sort());
      expect([...(kinds.get(ServiceName.TransientWorker)?.used ?? [])]).toEqual(expect.arrayContaining(['ecs:RunTask', 'iam:PassRole']));
      const unused = [...kinds].flatMap(([service, { granted, used }]) => [...granted].filter((action) => !used.has(action)).map((action) => `${service}: ${action}`));
      expect(unused).toEqual([]);
    });

    it('lets each task\'s execution role only ship its containers\' logs, as the ECS agent does, to the log group they name', () => {
      const logGroups = z.array(z.looseObject({ LogConfiguration: z.looseObject({ LogDriver: z.literal('awslogs'), Options: z.looseObject({ 'awslogs-group': z.object({ Ref: z.string() }) }) }) }));
      for (const [definitionId, definition] of resourcesOfType(template, 'AWS::ECS::TaskDefinition')) {
        const deployed = deployment.taskDefinitions.find((candidate) => candidate.logicalId === definitionId);
        const groups = new Set(logGroups.parse(definition.Properties?.ContainerDefinitions).map((container) => container.LogConfiguration.Options['awslogs-group'].Ref));
        const expected = [...groups].flatMap((group) => [...RUNTIME_ACTIONS].map((action) => `${action} ${deployment.resolver.getAtt(group, 'Arn')}`));
        expect(grantLines(grantsOfRole(template, deployed?.executionRoleId ?? 'none', deployment.resolver))).toEqual(expected.sort());
        expect(deployed?.executionRoleId).not.toBe(deployed?.taskRoleId);
      }
    });

    it('used every action granted to each system runner, derived from its own declaration, in that runner\'s own runs', () => {
      const used = new Map<string, Set<string>>();
      for (const { principal, needs } of callsByPrincipal()) for (const need of needs) used.set(principal, (used.get(principal) ?? new Set()).add(need.action));
      const unused = stack.systemRunners.flatMap((built) => {
        const fn = logicalId(built.handler.function);
        const granted = new Set(grantsOfRole(template, roleOf(template, fn), deployment.resolver).map((grant) => grant.action).filter((action) => !RUNTIME_ACTIONS.has(action)));
        return [...granted].filter((action) => !used.get(fn)?.has(action)).map((action) => `${built.taskName}: ${action}`);
      });
      expect(stack.systemRunners.map((built) => built.taskName).sort()).toEqual([MISSED_INGESTION, PRUNING, RECOUNT, SNAPSHOT, TNS_INGESTION].sort());
      expect(unused).toEqual([]);
    });
  });

  describe('Telemetry of the bundled handlers', () => {
    const lines = () =>
      [...deployment.functions.values()].filter((fn) => fn.runtime === 'nodejs').flatMap((fn) =>
        fn.host.output.map((line) => ({ fn, entry: z.record(z.string(), z.unknown()).parse(JSON.parse(line)) })),
      );
    const alarmQueries = z.array(
      z.looseObject({
        MetricStat: z
          .looseObject({ Metric: z.looseObject({ Namespace: z.string(), MetricName: z.string(), Dimensions: z.array(z.looseObject({ Name: z.string(), Value: z.string() })) }) })
          .optional(),
      }),
    );
    const emfSchema = z.looseObject({
      _aws: z.looseObject({ CloudWatchMetrics: z.array(z.looseObject({ Namespace: z.string(), Dimensions: z.array(z.array(z.string())) })) }),
      service: z.string(),
      task: z.string(),
    });

    it('writes only JSON lines: structured logs and EMF metric documents', () => {
      expect(lines().length).toBeGreaterThan(0);
    });

    it('emits metrics in the namespace and with the dimensions the dashboard and the alarms read', () => {
      const documents = lines().filter(({ entry }) => '_aws' in entry);
      expect(documents.length).toBeGreaterThan(0);
      const emitted = new Set<string>();
      for (const { fn, entry } of documents) {
        const emf = emfSchema.parse(entry);
        expect(emf._aws.CloudWatchMetrics.map((set) => [set.Namespace, [...(set.Dimensions[0] ?? [])].sort()])).toEqual([[METRICS_NAMESPACE, ['service', 'task']]]);
        expect(emf.service).toBe(fn.serviceName);
        for (const name of Object.keys(entry).filter((key) => !['_aws', 'service', 'task'].includes(key))) emitted.add(`${name} ${emf.service} ${emf.task}`);
      }
      // Every handler metric an alarm reads for a task this run exercised was emitted under the same name and dimensions.
      const alarmed = Object.values(template.Resources)
        .filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm')
        .flatMap((resource) => alarmQueries.parse(resolveIntrinsics(resource.Properties?.Metrics ?? [], deployment.resolver)))
        .flatMap((query) => (query.MetricStat?.Metric.Namespace === METRICS_NAMESPACE ? [query.MetricStat.Metric] : []))
        .map((metric) => `${metric.MetricName} ${metric.Dimensions.find((d) => d.Name === 'service')?.Value} ${metric.Dimensions.find((d) => d.Name === 'task')?.Value}`);
      for (const expected of ['Claimed transient-worker Host match', 'DeadLettered dead-letter Host information', 'Failures transient-worker Host information']) {
        expect(alarmed).toContain(expected);
        expect(emitted).toContain(expected);
      }
      expect(emitted).toContain('TransientsCompleted transient-worker workflow');
      expect(emitted).toContain('Dispatched dispatcher Cutout download');
      // The system runners' own: the snapshot's counts, TNS's requests, pruning's deletions.
      expect(emitted).toContain(`TotalTransients system-worker ${SNAPSHOT}`);
      expect(emitted).toContain(`TnsRequests system-worker ${TNS_INGESTION}`);
      expect(emitted).toContain(`ScratchObjectsDeleted system-worker ${PRUNING}`);
    });

    it('logs each run with its transient, task, status, attempt and duration', () => {
      const finishedRuns = lines().filter(({ entry }) => entry.message === 'finished');
      expect(finishedRuns.length).toBeGreaterThanOrEqual(EXAMPLES.length);
      for (const { fn, entry } of finishedRuns) {
        expect(entry).toMatchObject({ level: 'INFO', service: fn.serviceName, transient: expect.any(String), task: expect.any(String), status: expect.any(String), attempt: expect.any(Number), duration: expect.any(Number) });
      }
    });
  });
});
