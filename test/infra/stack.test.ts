/**
 * The synthesized template for the real registry: for every runner exactly its function, queues, event
 * sources, schedule and alarms with the settings the runner declares; IAM grants naming only the actions
 * and resources each function uses; the table the store expects; the outputs the CLI reads.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { registry } from '../../runners/registry';
import { ENV } from '../../lib/settings/config';
import { constructId } from '../../lib/constructs/names';
import { OLDEST_MESSAGE_PERIODS } from '../../lib/constructs/runner-alarms';
import { RegistryValidationError } from '../../lib/domain/errors';
import { fieldsUsedByTask, tasksReadyAfterRevision } from '../../lib/domain/revision';
import { processingStatuses, readyTasks } from '../../lib/domain/workflow';
import { VISIBILITY_TIMEOUT_FACTOR } from '../../lib/domain/time';
import { RETENTION_SECONDS, slug } from '../../lib/queue/queue-settings';
import { isPythonRunner, isTransientRunner } from '../../lib/runner';
import { deadLetterSettings } from '../../lib/settings/framework-functions';
import { createTableInput } from '../../lib/store/dynamodb/table';
import { TTL_ATTRIBUTE } from '../../lib/store/dynamodb';
import { StackOutput } from '../../lib/stacks/outputs';
import { TaskName } from '../../lib/generated/fixtures';
import { ServiceName } from '../../lib/engine/telemetry';
import { runner } from '../helpers/factories';
import { grantLines, grantsOf, itemGrantLines } from '../helpers/iam';
import { TEST_STACK, arnOf, countTypes, logicalId, refOf, resourcesUnder, synthStack } from '../helpers/stack';
import { resolveIntrinsics, resolvedJson, resource, resourcesOfType, placeholders } from '../helpers/template';
import { SystemTaskName } from '../../runners/system-tasks';

const deployed = synthStack(registry);
const { stack, template, json } = deployed;
const transientRunners = registry.filter(isTransientRunner);
const systemRunners = registry.filter((candidate) => !isTransientRunner(candidate));
const table = stack.table.table;
const runnerConstruct = (task: string) => {
  const found = stack.transientRunners.find((candidate) => candidate.taskName === task);
  if (!found) throw new Error(`no TransientRunner for "${task}"`);
  return found;
};
const environmentOf = (functionId: string) =>
  resource(json, functionId).Properties?.Environment as { Variables: Record<string, unknown> } | undefined;
const lines = (grants: [string[], string[]][]) =>
  grants.flatMap(([actions, resources]) => actions.flatMap((action) => resources.map((arn) => `${action} ${arn}`))).sort();
/** Grant lines for table actions confined to the items whose partition keys match `patterns`. */
const onItems = (actions: string[], patterns: string[], resource = arnOf(table)) => itemGrantLines(actions, resource, patterns);
const TRANSIENTS = ['T#*'];
const COUNTERS = ['COUNTS#*'];
const markersOf = (tasks: readonly string[]) => tasks.map((task) => `READY#${task}#*`);

describe('Stack: the table', () => {
  it('is on demand, with point-in-time recovery and the keys and index the store uses', () => {
    // Prepare
    const local = createTableInput('local');

    // Assess
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      KeySchema: local.KeySchema,
      AttributeDefinitions: Match.arrayEquals(local.AttributeDefinitions.map((definition) => Match.objectEquals(definition))),
      GlobalSecondaryIndexes: local.GlobalSecondaryIndexes.map((index) => Match.objectLike(index)),
    });
  });

  it('expires run-history records by their TTL attribute, kept the default 90 days by every worker', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } });
    for (const runner of transientRunners) {
      expect(environmentOf(logicalId(runnerConstruct(runner.taskName).worker.function))?.Variables[ENV.historyRetentionDays], runner.taskName).toBe('90');
    }
  });
});

describe('Stack: one set of resources per transient runner', () => {
  it("has one function per runner (and a Python runner's own), plus the dispatcher and the dead-letter handler, and nothing else that runs", () => {
    const n = transientRunners.length;
    const m = systemRunners.length;
    const p = transientRunners.filter(isPythonRunner).length;
    expect(m).toBeGreaterThan(0);
    expect(p).toBeGreaterThan(0);
    template.resourceCountIs('AWS::Lambda::Function', n + p + m + 2);
    // Each runner's queue and dead-letter queue, and the dead-letter handler's failures queue.
    template.resourceCountIs('AWS::SQS::Queue', 2 * n + 1);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2 * n);
    template.resourceCountIs('AWS::Events::Rule', n + m);
    // Per transient runner three; per system runner its errors; the dispatcher's and the dead-letter handler's
    // errors, and the dead letters it could not record.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3 * n + m + 3);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    // The scratch data that pruning works on, and the runs' artifacts under a prefix of their own.
    template.resourceCountIs('AWS::S3::Bucket', 1);
  });

  it.each(transientRunners.map((candidate) => [candidate.taskName, candidate] as const))('"%s": exactly its function, queues, event source, schedule and alarms', (task, declared) => {
    // Prepare
    const built = runnerConstruct(task);
    const functionId = logicalId(built.worker.function);
    const queueId = logicalId(built.queue);
    const deadLetterId = logicalId(built.deadLetterQueue);
    const successors = (stack.workflow.dependents.get(task) ?? []).filter((next) => registry.find((r) => r.taskName === next)?.initiallyEnabled);

    // Assess: what the construct holds (a Python runner's own function, with its role and logs, too)
    const functions = isPythonRunner(declared) ? 2 : 1;
    expect(countTypes(json, resourcesUnder(built))).toEqual({
      'AWS::Lambda::Function': functions,
      'AWS::IAM::Role': functions,
      'AWS::IAM::Policy': functions,
      'AWS::Logs::LogGroup': functions,
      'AWS::SQS::Queue': 2,
      'AWS::SQS::QueuePolicy': 2,
      'AWS::Lambda::EventSourceMapping': 1,
      'AWS::Events::Rule': 1,
      'AWS::Lambda::Permission': 1,
      'AWS::CloudWatch::Alarm': 3,
    });
    expect(resourcesUnder(built).every((id) => id.startsWith(constructId(task)))).toBe(true);

    // The function: Node 22 on ARM64, the runner's memory and timeout, the handlers' environment
    expect(resource(json, functionId).Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: declared.memorySize,
      Timeout: declared.timeoutSeconds,
      LoggingConfig: { LogGroup: { Ref: logicalId(built.worker.logGroup) } },
    });
    const variables = environmentOf(functionId)?.Variables ?? {};
    expect(variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: ServiceName.TransientWorker,
      NODE_OPTIONS: '--enable-source-maps',
      [ENV.fixturesDir]: '/var/task/fixtures',
      [ENV.tableName]: { Ref: logicalId(table) },
    });
    expect(resolvedJson(variables[ENV.queueUrls])).toEqual(
      Object.fromEntries([task, ...successors].map((name) => [name, refOf(runnerConstruct(name).queue)])),
    );
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });

    // The queues: visibility six times the timeout, encrypted, TLS only, redrive after maxReceiveCount; the
    // dead-letter queue's own to the failures queue, so that the dead-letter handler never loops
    expect(resource(json, queueId).Properties).toEqual({
      VisibilityTimeout: VISIBILITY_TIMEOUT_FACTOR * declared.timeoutSeconds,
      MessageRetentionPeriod: RETENTION_SECONDS,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterId, 'Arn'] }, maxReceiveCount: declared.maxReceiveCount },
    });
    expect(resource(json, deadLetterId).Properties).toEqual({
      VisibilityTimeout: VISIBILITY_TIMEOUT_FACTOR * deadLetterSettings.timeoutSeconds,
      MessageRetentionPeriod: RETENTION_SECONDS,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.deadLetterHandler.failures), 'Arn'] }, maxReceiveCount: deadLetterSettings.maxReceiveCount },
    });
    for (const queue of [queueId, deadLetterId]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queue }],
        PolicyDocument: {
          Statement: [Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
        },
      });
    }

    // The event sources: the worker on its queue, the dead-letter handler on its dead-letter queue
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: functionId },
      BatchSize: declared.batchSize,
      ScalingConfig: { MaximumConcurrency: declared.maxConcurrency },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [deadLetterId, 'Arn'] },
      FunctionName: { Ref: logicalId(stack.deadLetterHandler.handler.function) },
      BatchSize: deadLetterSettings.batchSize,
      ScalingConfig: { MaximumConcurrency: deadLetterSettings.maxConcurrency },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });

    // The schedule: the runner's frequency and state, invoking the dispatcher with the task
    expect(resource(json, logicalId(built.schedule.rule)).Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': [logicalId(stack.dispatcher.handler.function), 'Arn'] }, Input: JSON.stringify({ task }) }],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [logicalId(stack.dispatcher.handler.function), 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [logicalId(built.schedule.rule), 'Arn'] },
    });

    // The alarms
    const alarmNames = built.alarms.all.map((alarm) => resource(json, logicalId(alarm)).Properties?.AlarmName);
    expect(alarmNames).toEqual(['dead-letters', 'oldest-message', 'error-rate'].map((what) => `${TEST_STACK}-${slug(task)}-${what}`));
    expect(resource(json, logicalId(built.alarms.oldestMessage)).Properties).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: OLDEST_MESSAGE_PERIODS * declared.frequencySeconds,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
    });
  });
});

describe('Stack: least privilege', () => {
  it('gives every role only its own policy: no managed policies, trusted by Lambda alone', () => {
    for (const [, role] of resourcesOfType(json, 'AWS::IAM::Role')) {
      expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties?.AssumeRolePolicyDocument).toEqual({
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
        Version: '2012-10-17',
      });
    }
  });

  it('names every action and every resource: no wildcard, no unconditional "*"', () => {
    const functions = resourcesOfType(json, 'AWS::Lambda::Function');
    const grants = functions.flatMap(([id]) => grantsOf(json, id));
    const secretNames = new Set(registry.flatMap((candidate) => candidate.secretNames));
    expect(grants.length).toBeGreaterThan(0);
    for (const grant of grants) {
      expect(grant.action).not.toContain('*');
      // A resource of this stack; a secret the registry names (Secrets Manager appends six random characters);
      // the scratch objects under their prefix; the artifacts under theirs, written only under a runner's own task;
      // the processing-status index (the recount counts it).
      const secret = /^arn:<Ref:AWS::Partition>:secretsmanager:<Ref:AWS::Region>:<Ref:AWS::AccountId>:secret:(.+)-\?{6}$/.exec(grant.resource);
      const ownTask = /^<[A-Za-z0-9]+\.Arn>\/artifacts\/\*\/([^/*]+)\/\*$/.exec(grant.resource);
      if (secret) expect(secretNames).toContain(secret[1]);
      else if (ownTask) expect(grant.action).toBe('s3:PutObject');
      else expect(grant.resource).toMatch(/^<[A-Za-z0-9]+\.Arn>(\/scratch\/\*|\/artifacts\/\*|\/index\/byProcessingStatus)?$/);
    }
  });

  it('lets each system runner do what its declaration says and no more', () => {
    const linesOf = (task: string) => {
      const built = stack.systemRunners.find((candidate) => candidate.taskName === task);
      if (!built) throw new Error(`no system runner "${task}"`);
      return grantLines(grantsOf(json, logicalId(built.handler.function))).filter((line) => !line.startsWith('logs:'));
    };
    const tnsSecret = 'secretsmanager:GetSecretValue arn:<Ref:AWS::Partition>:secretsmanager:<Ref:AWS::Region>:<Ref:AWS::AccountId>:secret:blast/tns-bot-??????';
    // A new transient's first tasks, and the tasks a revision makes ready (for the example workflow: Cutout download,
    // and Host information, the one that reads the redshift), derived so that a runner added to the registry fits.
    const firstAndRevised = new Set([...readyTasks(stack.workflow, {}), ...tasksReadyAfterRevision(stack.workflow, fieldsUsedByTask(registry))]);
    expect([...firstAndRevised]).toEqual(expect.arrayContaining([TaskName.CutoutDownload, TaskName.HostInformation]));
    const sends = [...firstAndRevised].map((task) => `sqs:SendMessage ${arnOf(runnerConstruct(task).queue)}`);
    if (!stack.scratch) throw new Error('no scratch bucket');
    const bucket = arnOf(stack.scratch.bucket);

    const lock = (task: string) => onItems(['DeleteItem', 'PutItem'], [`LOCK#${task}`]);
    const marks = markersOf([...firstAndRevised]);

    expect(linesOf(SystemTaskName.TnsDataIngestion)).toEqual(
      [
        ...onItems(['BatchGetItem', 'PutItem', 'UpdateItem'], TRANSIENTS),
        ...onItems(['BatchWriteItem', 'PutItem'], marks),
        ...onItems(['UpdateItem'], COUNTERS),
        ...lock(SystemTaskName.TnsDataIngestion),
        tnsSecret,
        ...sends,
      ].sort(),
    );
    expect(linesOf(SystemTaskName.IngestMissedTnsTransients)).toEqual(
      [
        ...onItems(['BatchGetItem', 'PutItem', 'UpdateItem'], TRANSIENTS),
        ...onItems(['BatchWriteItem', 'PutItem'], marks),
        ...onItems(['UpdateItem'], COUNTERS),
        ...lock(SystemTaskName.IngestMissedTnsTransients),
        // Its checkpoint is its own item.
        ...onItems(['GetItem', 'PutItem'], [`SYS#${SystemTaskName.IngestMissedTnsTransients}`]),
        tnsSecret,
        ...sends,
      ].sort(),
    );
    expect(linesOf(SystemTaskName.PruneScratchData)).toEqual(
      [
        ...onItems(['BatchGetItem'], TRANSIENTS),
        ...lock(SystemTaskName.PruneScratchData),
        `s3:DeleteObject ${bucket}/scratch/*`,
        `s3:ListBucket ${bucket} if StringLike s3:prefix scratch/*`,
        // The artifacts of superseded runs: listed and deleted under their own prefix.
        `s3:DeleteObject ${bucket}/artifacts/*`,
        `s3:ListBucket ${bucket} if StringLike s3:prefix artifacts/*`,
      ].sort(),
    );
    expect(linesOf(SystemTaskName.SnapshotTaskRegister)).toEqual([...onItems(['BatchGetItem'], COUNTERS), ...lock(SystemTaskName.SnapshotTaskRegister)].sort());
    // The recovery sweep may release a stalled task of any runner, so it may write any runner's ready markers.
    expect(linesOf(SystemTaskName.RecountTransients)).toEqual(
      [
        ...onItems(['BatchGetItem', 'GetItem', 'UpdateItem'], TRANSIENTS),
        ...onItems(['PutItem'], markersOf(transientRunners.map((candidate) => candidate.taskName))),
        ...onItems(['GetItem', 'UpdateItem'], COUNTERS),
        ...onItems(['Query'], processingStatuses.map((status) => `${status}#*`), `${arnOf(table)}/index/byProcessingStatus`),
        ...lock(SystemTaskName.RecountTransients),
      ].sort(),
    );
  });

  const declared = (task: string) => transientRunners.find((candidate) => candidate.taskName === task);
  const writesArtifacts = (task: string) => declared(task)?.usesArtifacts === true;
  const readsArtifacts = (task: string) => writesArtifacts(task) || declared(task)?.readsArtifacts === true;

  it('lets Cutout download, which declares usesArtifacts, write artifacts, and only it and Global aperture photometry (readsArtifacts) read them', () => {
    const tasks = transientRunners.map((candidate) => candidate.taskName);
    expect(tasks.filter(writesArtifacts)).toEqual([TaskName.CutoutDownload]);
    expect(tasks.filter(readsArtifacts)).toEqual([TaskName.CutoutDownload, TaskName.GlobalAperturePhotometry]);
  });

  it.each(transientRunners.map((candidate) => [candidate.taskName] as const))('the "%s" worker: its items of the table, its own queue and dead-letter queue, its successors\' queues', (task) => {
    const built = runnerConstruct(task);
    if (!stack.scratch) throw new Error('no bucket for the artifacts');
    const artifactsArn = arnOf(stack.scratch.bucket);
    const successors = (stack.workflow.dependents.get(task) ?? []).map(runnerConstruct);

    expect(grantLines(grantsOf(json, logicalId(built.worker.function)))).toEqual(
      lines([
        [['logs:CreateLogStream', 'logs:PutLogEvents'], [arnOf(built.worker.logGroup)]],
        [['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'], [arnOf(built.queue)]],
        [['sqs:SendMessage'], [...successors.map((successor) => arnOf(successor.queue)), arnOf(built.deadLetterQueue)]],
      ])
        .concat(
          // Transients (registers and outputs), the counters, and the ready markers of its own task and its
          // dependents only: no lock, dead letter, checkpoint or other runner's markers.
          onItems(['GetItem', 'PutItem', 'UpdateItem'], TRANSIENTS),
          onItems(['UpdateItem'], COUNTERS),
          onItems(['BatchWriteItem'], markersOf([task, ...successors.map((successor) => successor.taskName)])),
          // Artifacts: written under its own task's keys only if its runner declares usesArtifacts; read under the
          // artifact prefix if it or a task before it does; nothing otherwise.
          writesArtifacts(task) ? [`s3:PutObject ${artifactsArn}/artifacts/*/${encodeURIComponent(task)}/*`] : [],
          // A Python runner's worker invokes its function, and no other.
          built.pythonFunction ? [`lambda:InvokeFunction ${arnOf(built.pythonFunction.function)}`] : [],
          readsArtifacts(task) ? [`s3:GetObject ${artifactsArn}/artifacts/*`] : [],
        )
        .sort(),
    );
    expect(environmentOf(logicalId(built.worker.function))?.Variables[ENV.artifactLocation] !== undefined).toBe(readsArtifacts(task));
    // Poison messages go to its own dead-letter queue at once, and only there.
    expect(resolvedJson(environmentOf(logicalId(built.worker.function))?.Variables[ENV.deadLetterQueueUrls])).toEqual({ [task]: refOf(built.deadLetterQueue) });
  });

  it('the dispatcher: the ready markers and dispatch locks of the runners it dispatches, and sending to their queues and reading their depths', () => {
    const { handler } = stack.dispatcher;
    const tasks = stack.transientRunners.map((built) => built.taskName);
    expect(grantLines(grantsOf(json, logicalId(handler.function)))).toEqual(
      lines([
        [['logs:CreateLogStream', 'logs:PutLogEvents'], [arnOf(handler.logGroup)]],
        [['sqs:GetQueueAttributes', 'sqs:SendMessage'], stack.transientRunners.map((built) => arnOf(built.queue))],
      ])
        .concat(
          onItems(['BatchWriteItem', 'Query'], markersOf(tasks)),
          onItems(['DeleteItem', 'PutItem'], tasks.map((task) => `LOCK#${task}`)),
        )
        .sort(),
    );
    expect(resolvedJson(environmentOf(logicalId(handler.function))?.Variables[ENV.queueUrls])).toEqual(
      Object.fromEntries(stack.transientRunners.map((built) => [built.taskName, refOf(built.queue)])),
    );
  });

  it('the dead-letter handler: the register and the dead-letter record, and consuming every dead-letter queue', () => {
    const { handler } = stack.deadLetterHandler;
    const tasks = stack.transientRunners.map((built) => built.taskName);
    expect(grantLines(grantsOf(json, logicalId(handler.function)))).toEqual(
      lines([
        [['logs:CreateLogStream', 'logs:PutLogEvents'], [arnOf(handler.logGroup)]],
        [['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'], stack.transientRunners.map((built) => arnOf(built.deadLetterQueue))],
      ])
        .concat(
          onItems(['GetItem', 'UpdateItem'], TRANSIENTS),
          onItems(['UpdateItem'], COUNTERS),
          onItems(['PutItem'], tasks.map((task) => `DEAD#${task}`)),
          // The tasks a change to a watched task's register can make ready (here every one), in the order first met.
          onItems(['BatchWriteItem', 'PutItem'], markersOf([...new Set(tasks.flatMap((task) => [task, ...(stack.workflow.dependents.get(task) ?? [])]))])),
        )
        .sort(),
    );
    const variables = environmentOf(logicalId(handler.function))?.Variables ?? {};
    expect(variables[ENV.queueUrls]).toBeUndefined();
    expect(resolvedJson(variables[ENV.deadLetterQueues])).toEqual(
      Object.fromEntries(stack.transientRunners.map((built) => [built.taskName, arnOf(built.deadLetterQueue)])),
    );
  });
});

describe('Stack: outputs', () => {
  it('gives the CLI exactly the table name, the queue URLs, the dead-letter queue URLs and the dashboard URL', () => {
    const outputs = json.Outputs ?? {};
    expect(Object.keys(outputs).sort()).toEqual(Object.values(StackOutput).sort());
    expect(outputs[StackOutput.TableName]?.Value).toEqual({ Ref: logicalId(table) });
    expect(resolvedJson(outputs[StackOutput.TaskQueueUrls]?.Value)).toEqual(
      Object.fromEntries(stack.transientRunners.map((built) => [built.taskName, refOf(built.queue)])),
    );
    expect(resolvedJson(outputs[StackOutput.DeadLetterQueueUrls]?.Value)).toEqual(
      Object.fromEntries(stack.transientRunners.map((built) => [built.taskName, refOf(built.deadLetterQueue)])),
    );
    expect(resolveIntrinsics(outputs[StackOutput.DashboardUrl]?.Value, placeholders)).toBe(
      `https://<Ref:AWS::Region>.console.aws.amazon.com/cloudwatch/home?region=<Ref:AWS::Region>#dashboards:name=${refOf(stack.dashboard.dashboard)}`,
    );
  });
});

describe('Stack: validation at synth', () => {
  it('refuses a registry that breaks a rule, naming the runner and the field', () => {
    const broken = [...registry, runner('Host match', { 'Host match': 'not processed' })];
    expect(() => synthStack(broken)).toThrow(RegistryValidationError);
    expect(() => synthStack(broken)).toThrow(/Host match/);
  });
});
