/**
 * The local deployment's ECS (test/helpers/ecs-stand-in.ts, local-task.ts, aws-cli-stand-in.ts), which the IAM contract
 * test's container runs go through: RunTask over the SDK's wire protocol, refused as ECS refuses it; a task's
 * containers started in their dependencies' order, sharing their volume, stopped with everything they started; an
 * image it does not stand in for refused at deploy.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ClientException, ClusterNotFoundException, ECSClient, InvalidParameterException, RunTaskCommand, type RunTaskCommandInput } from '@aws-sdk/client-ecs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PYTHON_CONTAINER, PYTHON_IMAGE } from '../../lib/constructs/container-runner';
import { localClientConfig } from '../../lib/local/services';
import { type AcceptedRunTask, EcsStandIn } from '../helpers/ecs-stand-in';
import { type LocalContainerSpec, LocalTask } from '../helpers/local-task';
import { waitFor } from '../helpers/local-stack';
import { describePythonRunners } from '../../lib/python/declarations';
import { PythonTransientRunner } from '../../lib/runner';
import { registry } from '../../runners/registry';
import { LocalDeployment } from '../helpers/local-deployment';
import { synthStack } from '../helpers/stack';

const CLUSTER = { name: 'runs', arn: 'arn:aws:ecs:us-east-1:000000000000:cluster/runs' };
const DEFINITION = { arn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/long:1', family: 'long', revision: 1, containerNames: ['fetch', 'run'], requiresFargate: true };

describe('ECS stand-in: RunTask', () => {
  let ecs: EcsStandIn;
  let client: ECSClient;
  const launched: AcceptedRunTask[] = [];
  const request = (changes: Partial<RunTaskCommandInput> = {}): RunTaskCommandInput => ({
    cluster: CLUSTER.arn,
    taskDefinition: DEFINITION.arn,
    launchType: 'FARGATE',
    count: 1,
    startedBy: 'run-token_1',
    networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'ENABLED' } },
    overrides: { containerOverrides: [{ name: 'run', environment: [{ name: 'BLAST_CONTAINER_RUN', value: '{"task":"Long"}' }] }] },
    ...changes,
  });

  beforeAll(async () => {
    ecs = await EcsStandIn.start({
      region: 'us-east-1',
      account: '000000000000',
      clusters: [CLUSTER],
      taskDefinitions: [DEFINITION],
      subnets: ['subnet-1', 'subnet-2'],
      securityGroups: ['sg-1'],
      launch: (task) => launched.push(task),
    });
    client = new ECSClient(localClientConfig(ecs.endpoint));
  });

  afterAll(async () => {
    client?.destroy();
    await ecs?.stop();
  });

  it('starts the task definition it names, by ARN or family, with the overrides, and answers with the task ARN', async () => {
    // Act
    const byArn = await client.send(new RunTaskCommand(request()));
    const byFamily = await client.send(new RunTaskCommand(request({ cluster: CLUSTER.name, taskDefinition: 'long:1' })));

    // Assess
    expect(byArn.failures).toEqual([]);
    expect(byArn.tasks?.[0]?.taskArn).toMatch(/^arn:aws:ecs:us-east-1:000000000000:task\/runs\/[0-9a-f]{32}$/);
    expect(byFamily.tasks?.[0]?.taskDefinitionArn).toBe(DEFINITION.arn);
    expect(launched.map((task) => task.taskArn)).toEqual([byArn.tasks?.[0]?.taskArn, byFamily.tasks?.[0]?.taskArn]);
    expect(launched[0]?.environmentOverrides.get('run')).toEqual({ BLAST_CONTAINER_RUN: '{"task":"Long"}' });
    expect(launched[0]?.startedBy).toBe('run-token_1');
  });

  it.each([
    ['an unknown cluster', { cluster: 'arn:aws:ecs:us-east-1:000000000000:cluster/other' }, ClusterNotFoundException],
    ['no cluster (ECS\'s "default", which the stack has not)', { cluster: undefined }, ClusterNotFoundException],
    ['an unknown task definition', { taskDefinition: 'long:2' }, ClientException],
    ['an unknown subnet', { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-9'], securityGroups: ['sg-1'] } } }, InvalidParameterException],
    ['an unknown security group', { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-9'] } } }, InvalidParameterException],
    ['no network for a Fargate task', { networkConfiguration: undefined }, InvalidParameterException],
    ['the EC2 launch type for a Fargate task definition', { launchType: 'EC2' as const }, InvalidParameterException],
    ['an override of a container the definition lacks', { overrides: { containerOverrides: [{ name: 'runner', environment: [] }] } }, InvalidParameterException],
    ['a startedBy ECS refuses', { startedBy: 'run:token' }, InvalidParameterException],
  ])('refuses %s, as ECS does, and starts nothing', async (_, changes, refusal) => {
    // Prepare
    const before = launched.length;

    // Act
    const sent = client.send(new RunTaskCommand(request(changes)));

    // Assess
    await expect(sent).rejects.toBeInstanceOf(refusal);
    expect(launched.length).toBe(before);
  });
});

describe('Local task: containers as processes', () => {
  const container = (name: string, script: string, more: Partial<LocalContainerSpec> = {}): LocalContainerSpec => ({
    name,
    essential: true,
    argv: ['sh', '-c', script],
    environment: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    mountPoints: [{ sourceVolume: 'code', containerPath: '/code' }],
    dependsOn: [],
    stopTimeoutSeconds: 5,
    ...more,
  });

  it('starts a container once the one it depends on exited 0, both seeing the shared volume where they mount it', async () => {
    // Act
    const task = new LocalTask('task/1', [
      container('fetch', 'mkdir -p /code/fixtures && echo "$GREETING" > /code/fixtures/greeting', { essential: false, environment: { PATH: process.env.PATH ?? '', GREETING: 'hello' } }),
      container('run', 'cat $FIXTURES_DIR/greeting', { dependsOn: [{ containerName: 'fetch', condition: 'SUCCESS' }], environment: { PATH: process.env.PATH ?? '', FIXTURES_DIR: '/code/fixtures' } }),
    ], ['code']);
    const reason = await task.stopped;

    // Assess
    expect(reason).toBe('Essential container in task exited (run: 0)');
    expect(task.containers.get('run')).toMatchObject({ exit: 0, output: ['hello'] });
    expect(task.containers.get('fetch')?.exit).toBe(0);
  });

  it('never starts a container whose SUCCESS dependency failed, and stops the task', async () => {
    // Act
    const task = new LocalTask('task/2', [
      container('fetch', 'echo "fatal error: Forbidden" >&2; exit 1', { essential: false }),
      container('run', 'echo ran', { dependsOn: [{ containerName: 'fetch', condition: 'SUCCESS' }] }),
    ], ['code']);
    const reason = await task.stopped;

    // Assess
    expect(reason).toMatch(/^Essential container run could not start/);
    expect(task.containers.get('fetch')).toMatchObject({ exit: 1, output: ['fatal error: Forbidden'] });
    expect(task.containers.get('run')?.exit).toBe('skipped');
    expect(task.containers.get('run')?.output).not.toContain('ran');
  });

  it('starts a container after its HEALTHY dependency passed its health check, and stops that one, and what it started, with the task', async () => {
    // Prepare: a server that is ready once its file exists, and leaves a child of its own running
    const server = container('python', 'sleep 600 & echo $! > /code/child.pid; touch /code/ready; wait', {
      essential: false,
      healthCheck: { command: ['CMD-SHELL', 'test -f /code/ready'], intervalSeconds: 1, timeoutSeconds: 1, retries: 3 },
    });
    const run = container('run', 'test -f /code/ready && cat /code/child.pid', { dependsOn: [{ containerName: 'python', condition: 'HEALTHY' }] });

    // Act
    const task = new LocalTask('task/3', [server, run], ['code']);
    const reason = await task.stopped;

    // Assess: the run saw the server ready; the server and its child were stopped with the task
    expect(reason).toBe('Essential container in task exited (run: 0)');
    expect(task.containers.get('python')).toMatchObject({ healthy: true, exit: 'SIGTERM' });
    const child = Number(task.containers.get('run')?.output[0]);
    expect(child).toBeGreaterThan(0);
    // SIGTERM reached it (it ends, and is a zombie at most until its new parent reaps it).
    const ended = () => {
      try {
        return /\) Z /.test(readFileSync(`/proc/${child}/stat`, 'utf8'));
      } catch {
        return true;
      }
    };
    await waitFor('the server\'s child to end', async () => ended(), 5_000);
  });

  it('stops a running task when asked, as ECS stops one', async () => {
    // Prepare
    const task = new LocalTask('task/4', [container('run', 'exec sleep 600')], ['code']);

    // Act
    const reason = await task.stop();

    // Assess
    expect(reason).toBe('Task stopped by the deployment');
    expect(task.containers.get('run')?.exit).toBe('SIGTERM');
  });
});

describe('AWS CLI stand-in', () => {
  it('refuses any command but `aws s3 cp s3://bucket/key <file>`, as a usage error', () => {
    // Act
    const listed = spawnSync(process.execPath, ['--import', 'tsx', new URL('../helpers/aws-cli-stand-in.ts', import.meta.url).pathname, 's3', 'ls', 's3://bucket'], { encoding: 'utf8' });

    // Assess
    expect(listed.status).toBe(252);
    expect(listed.stderr).toMatch(/only "aws s3 cp/);
  });
});

describe('Local deployment: task definitions', () => {
  it("refuses to deploy a task whose container's image it does not stand in for (a Python runner's), rather than run it on this machine", async () => {
    // Prepare: the registry with a Python container runner (its task has the Python image's container)
    const [sed] = describePythonRunners(['test/helpers/python/sed_fitting.py']).filter((declared) => declared.className === 'SedFitting').map((declared) => new PythonTransientRunner(declared));
    if (!sed) throw new Error('test/helpers/python/sed_fitting.py has no SedFitting');
    const { json } = synthStack(registry.map((runner) => (runner.taskName === sed.taskName ? sed : runner)));
    const endpoints = { dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint') };

    // Act
    const deployed = LocalDeployment.deploy({ template: json, assemblyDir: tmpdir(), prefix: `e${process.pid.toString(36)}${Date.now().toString(36)}`, direct: endpoints, forFunctions: endpoints });

    // Assess
    await expect(deployed).rejects.toThrow(new RegExp(`container ${PYTHON_CONTAINER}'s image ${PYTHON_IMAGE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not run by this local deployment`));
  }, 60_000);
});
