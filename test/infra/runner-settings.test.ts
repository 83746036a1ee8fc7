/**
 * What a runner declares reaches the template: its serverless settings, a schedule that starts disabled,
 * the secrets it reads, system runners on their own schedule, and the alarm topic.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../lib/settings/config';
import { deadLetterSettings } from '../../lib/settings/framework-functions';
import { SystemCapability } from '../../lib/runner';
import { ServiceName } from '../../lib/engine/telemetry';
import { runner, systemRunner } from '../helpers/factories';
import { grantLines, grantsOf, itemGrantLines } from '../helpers/iam';
import { fixturesWithTasks } from '../helpers/local-stack';
import { arnOf, logicalId, refOf, synthStack } from '../helpers/stack';
import { resolvedJson, resource } from '../helpers/template';

const tasks = ['Fetch', 'Measure', 'Summarise'];
const fixturesDir = fixturesWithTasks(tasks);
const fetch = runner('Fetch', { Fetch: 'not processed' });
const measure = runner('Measure', { Fetch: 'processed', Measure: 'not processed' }, {
  settings: { memorySize: 1024, timeoutSeconds: 120, batchSize: 5, maxConcurrency: 3, maxReceiveCount: 5, frequencySeconds: 300, initiallyEnabled: false },
});
const summarise = runner('Summarise', { Fetch: 'processed', Summarise: 'not processed' }, { settings: { secretNames: ['blast/summary-service'] } });
const ingest = systemRunner('Ingest', {
  settings: { frequencySeconds: 600, secretNames: ['tns-bot'], timeoutSeconds: 300, memorySize: 256, uses: [SystemCapability.Ingest] },
});

describe('Stack: runner settings', () => {
  const { stack, json, template } = synthStack([ingest, fetch, measure, summarise], { fixturesDir, alarmEmail: 'ops@example.org' });
  const built = (task: string) => {
    const found = stack.transientRunners.find((candidate) => candidate.taskName === task);
    if (!found) throw new Error(task);
    return found;
  };
  const variables = (functionId: string) => (resource(json, functionId).Properties?.Environment as { Variables: Record<string, unknown> }).Variables;

  it('gives the function, queue and event source the memory, timeout, batch, concurrency and deliveries the runner declares', () => {
    const measured = built('Measure');
    expect(resource(json, logicalId(measured.worker.function)).Properties).toMatchObject({ MemorySize: 1024, Timeout: 120 });
    expect(resource(json, logicalId(measured.queue)).Properties).toMatchObject({
      VisibilityTimeout: 720,
      RedrivePolicy: { maxReceiveCount: 5 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(measured.queue), 'Arn'] },
      BatchSize: 5,
      ScalingConfig: { MaximumConcurrency: 3 },
    });
  });

  it('creates the schedule of a runner that starts disabled as disabled, and leaves its ready work to the dispatcher', () => {
    const measured = built('Measure');
    expect(resource(json, logicalId(measured.schedule.rule)).Properties).toMatchObject({ ScheduleExpression: 'rate(5 minutes)', State: 'DISABLED' });
    // Fetch's worker leaves a ready marker for it instead of sending (lib/engine/transitions.ts announce) ...
    const fetcher = built('Fetch');
    expect(Object.keys(resolvedJson(variables(logicalId(fetcher.worker.function))[ENV.queueUrls]) as object)).toEqual(['Fetch', 'Summarise']);
    expect(grantLines(grantsOf(json, logicalId(fetcher.worker.function))).filter((line) => line.startsWith('sqs:SendMessage'))).toEqual([
      `sqs:SendMessage ${arnOf(built('Fetch').deadLetterQueue)}`,
      `sqs:SendMessage ${arnOf(built('Summarise').queue)}`,
    ].sort());
    // ... which the dispatcher sends once the schedule is enabled.
    expect(Object.keys(resolvedJson(variables(logicalId(stack.dispatcher.handler.function))[ENV.queueUrls]) as object)).toContain('Measure');
  });

  it('lets a runner read exactly its secrets, referenced by name, and passes their ARNs as SECRET_ARNS', () => {
    const summary = built('Summarise');
    const secretArn = 'arn:<Ref:AWS::Partition>:secretsmanager:<Ref:AWS::Region>:<Ref:AWS::AccountId>:secret:blast/summary-service';
    expect(resolvedJson(variables(logicalId(summary.worker.function))[ENV.secretArns])).toEqual({ 'blast/summary-service': secretArn });
    expect(grantLines(grantsOf(json, logicalId(summary.worker.function)))).toContain(`secretsmanager:GetSecretValue ${secretArn}-??????`);
    for (const other of [built('Fetch'), built('Measure')]) {
      expect(variables(logicalId(other.worker.function))[ENV.secretArns]).toBeUndefined();
      expect(grantLines(grantsOf(json, logicalId(other.worker.function))).some((line) => line.startsWith('secretsmanager'))).toBe(false);
    }
    expect(JSON.stringify(json)).not.toContain('SecretString');
  });

  it('runs a system runner on its own schedule, with its secrets, ingest grants and the first tasks\' queues', () => {
    const [system] = stack.systemRunners;
    if (!system) throw new Error('no system runner');
    const functionId = logicalId(system.handler.function);
    const rule = resource(json, logicalId(system.schedule.rule));
    expect(rule.Properties).toMatchObject({
      ScheduleExpression: 'rate(10 minutes)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': [functionId, 'Arn'] }, Input: JSON.stringify({ task: 'Ingest' }) }],
    });
    expect(resource(json, functionId).Properties).toMatchObject({ MemorySize: 256, Timeout: 300 });
    expect(variables(functionId)).toMatchObject({ POWERTOOLS_SERVICE_NAME: ServiceName.SystemWorker });
    expect(resolvedJson(variables(functionId)[ENV.queueUrls])).toEqual({ Fetch: refOf(built('Fetch').queue) });
    const tnsArn = 'arn:<Ref:AWS::Partition>:secretsmanager:<Ref:AWS::Region>:<Ref:AWS::AccountId>:secret:tns-bot';
    const onItems = (actions: string[], patterns: string[]) => itemGrantLines(actions, arnOf(stack.table.table), patterns);
    expect(grantLines(grantsOf(json, functionId))).toEqual(
      [
        `logs:CreateLogStream ${arnOf(system.handler.logGroup)}`,
        `logs:PutLogEvents ${arnOf(system.handler.logGroup)}`,
        // Its own run lock, and what ingesting writes: transients, the counters, the first task's ready markers.
        ...onItems(['DeleteItem', 'PutItem'], ['LOCK#Ingest']),
        ...onItems(['PutItem'], ['T#*']),
        ...onItems(['UpdateItem'], ['COUNTS#*']),
        ...onItems(['BatchWriteItem', 'PutItem'], ['READY#Fetch#*']),
        `sqs:SendMessage ${arnOf(built('Fetch').queue)}`,
        `secretsmanager:GetSecretValue ${tnsArn}-??????`,
      ].sort(),
    );
    expect(resource(json, logicalId(system.errorsAlarm)).Properties).toMatchObject({ MetricName: 'Errors', Threshold: 1 });
  });

  it('sends every alarm to the SNS topic that e-mails the address given', () => {
    if (!stack.alarmTopic) throw new Error('no alarm topic');
    const topic = logicalId(stack.alarmTopic);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.org', TopicArn: { Ref: topic } });
    const alarms = Object.values(json.Resources).filter((candidate) => candidate.Type === 'AWS::CloudWatch::Alarm');
    // Three per transient runner, one per system runner, the dispatcher's, the dead-letter handler's and its failures'.
    expect(alarms).toHaveLength(3 * 3 + 1 + 3);
    for (const alarm of alarms) expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topic }]);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
  });

  it('refuses a secret name that Secrets Manager would read as an ARN suffix, naming the runner and the field', () => {
    const ambiguous = runner('Fetch', { Fetch: 'not processed' }, { settings: { secretNames: ['tns-abc123'] } });
    expect(() => synthStack([ambiguous], { fixturesDir: fixturesWithTasks(['Fetch']) })).toThrow(/runner Fetch \("Fetch"\), field secretNames: "tns-abc123"/);
  });
});

describe('Stack: the dead-letter handler', () => {
  it('may write ready markers (the successors of a task whose worker died on its last delivery) and never loops', () => {
    const { stack, json } = synthStack([fetch], { fixturesDir: fixturesWithTasks(['Fetch']) });
    const dlq = stack.transientRunners[0]?.deadLetterQueue;
    if (!dlq) throw new Error('no dead-letter queue');

    expect(grantLines(grantsOf(json, logicalId(stack.deadLetterHandler.handler.function)))).toContain(
      `dynamodb:BatchWriteItem ${arnOf(stack.table.table)} if ForAllValues:StringLike dynamodb:LeadingKeys READY#Fetch#*`,
    );
    // What it cannot record goes on to the failures queue after a few tries, instead of coming back for ever.
    expect(json.Resources?.[logicalId(dlq)]?.Properties).toMatchObject({
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.deadLetterHandler.failures), 'Arn'] }, maxReceiveCount: deadLetterSettings.maxReceiveCount },
    });
  });
});
