/**
 * A runner whose runs happen in a container, in the stack: a Fargate task definition of public images (no image
 * built), its code an S3 asset the task role may read; a task role that reaches the worker's items less the claim,
 * plus the lease, and only its own queue's messages and its successors' queues; a worker that may start only that
 * task definition on the stack's cluster and pass only its two roles; a VPC with public subnets and no NAT gateway;
 * cdk-nag clean.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ECSClient } from '@aws-sdk/client-ecs';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PROJECT_ROOT, REGISTRY_MODULE_CONTEXT } from '../../lib/constructs/handler-function';
import { CONTAINER_REGISTRY_MODULE } from '../helpers/container-registry';
import { describe, expect, it } from 'vitest';
import { CONTAINER_WORKER_TIMEOUT_SECONDS, Compute, fargateCpuFor } from '../../lib/domain/compute';
import { ENV } from '../../lib/settings/config';
import { registry } from '../../runners/registry';
import { ContainerRunner, FETCH_IMAGE, RUN_CONTAINER, RUN_IMAGE, bundleContainerRun } from '../../lib/constructs/container-runner';
import { isTransientRunner } from '../../lib/runner';
import { keys } from '../../lib/store/dynamodb';
import { ecsContainerRuns } from '../../lib/container/ecs-container-runs';
import { localClientConfig } from '../../lib/local/services';
import { loadConfig } from '../../lib/settings/config';
import { startRecordingProxy } from '../helpers/aws-call-recorder';
import { LEADING_KEYS, allows, grantLines, grantsOf, grantsOfRole, requiredPermissions } from '../helpers/iam';
import { arnOf, logicalId, synthStack } from '../helpers/stack';
import { PINNED_PUBLIC_IMAGE, placeholders, resolveIntrinsics, resolvedJson, resource, resourcesOfType } from '../helpers/template';

// The registry with one of its runners (one with a successor) running in a container.
const LONG = registry.filter(isTransientRunner).find((candidate) => candidate.taskName === 'Global host SED inference') ?? registry.filter(isTransientRunner)[0];
if (!LONG) throw new Error('no transient runner in the registry');
const long = Object.assign(Object.create(Object.getPrototypeOf(LONG) as object) as typeof LONG, LONG, { compute: Compute.Container, timeoutSeconds: 4 * 3600, memorySize: 4096, heartbeatSeconds: 60, usesArtifacts: true });
const runners = registry.map((candidate) => (candidate === LONG ? long : candidate));
const { stack, json } = synthStack(runners);
const built = stack.transientRunners.find((candidate) => candidate.taskName === long.taskName);
if (!built?.container) throw new Error('no container for the long runner');
const container = built.container;
const taskRoleId = logicalId(container.taskRole);
const workerId = logicalId(built.worker.function);

describe('Stack: a runner with compute "container"', () => {
  it('has a Fargate task definition of public images, sized by the runner, with its code fetched from S3', () => {
    const definition = resource(json, logicalId(container.taskDefinition)).Properties ?? {};
    expect(definition).toMatchObject({ Cpu: String(fargateCpuFor(4096)), Memory: '4096', NetworkMode: 'awsvpc', RequiresCompatibilities: ['FARGATE'], RuntimePlatform: { CpuArchitecture: 'ARM64' } });
    const containers = definition.ContainerDefinitions as { Name: string; Image: string; DependsOn?: unknown; Command?: string[] }[];
    expect(containers.map((entry) => [entry.Name, entry.Image])).toEqual([['fetch', FETCH_IMAGE], [RUN_CONTAINER, RUN_IMAGE]]);
    expect(containers[1]?.DependsOn).toEqual([{ Condition: 'SUCCESS', ContainerName: 'fetch' }]);
    for (const { Image } of containers) expect(Image).toMatch(PINNED_PUBLIC_IMAGE);
    expect(JSON.stringify(resolveIntrinsics(containers[0]?.Command, placeholders))).toMatch(/^\["aws s3 cp s3:\/\/cdk-[^ ]+ \/code\/container-run\.mjs && aws s3 cp .+ \/code\/fixtures\/setup_status\.yaml && aws s3 cp .+ \/code\/fixtures\/setup_tasks\.yaml"\]$/);
  });

  it("gives its worker a short function that knows where to start runs", () => {
    const worker = resource(json, workerId).Properties ?? {};
    expect(worker.Timeout).toBe(CONTAINER_WORKER_TIMEOUT_SECONDS);
    const variables = (worker.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(resolvedJson(variables[ENV.containerTasks])).toMatchObject({ [long.taskName]: { container: RUN_CONTAINER, taskDefinition: `<Ref:${logicalId(container.taskDefinition)}>` } });
  });

  it('lets its worker start only that task definition, on the cluster, and pass only its two roles to ECS', () => {
    const lines = grantLines(grantsOf(json, workerId)).filter((line) => /^(ecs|iam):/.test(line));
    expect(lines).toEqual(
      [
      `ecs:RunTask <Ref:${logicalId(container.taskDefinition)}> if StringEquals ecs:cluster ${arnOf(stack.node.findChild('Containers').node.findChild('Cluster'))}`,
      `iam:PassRole ${arnOf(container.taskRole)} if StringEquals iam:PassedToService ecs-tasks.amazonaws.com`,
      `iam:PassRole ${arnOf(container.executionRole)} if StringEquals iam:PassedToService ecs-tasks.amazonaws.com`,
      ].sort(),
    );
    const functions = resourcesOfType(json, 'AWS::Lambda::Function').map(([id]) => id);
    expect(functions.filter((id) => grantLines(grantsOf(json, id)).some((line) => line.startsWith('ecs:')))).toEqual([workerId]);
  });

  it("allows the RunTask its worker's ECS port sends, with the roles it passes, and refuses it on another cluster", async () => {
    // Prepare: the port configured from the worker's environment, sending over the wire through a recording proxy to
    // an ECS that places every task; the template's references as the placeholders name them.
    const ecs = createServer((_, response) => response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ tasks: [{ taskArn: 'arn:aws:ecs:task/1' }], failures: [] })));
    await new Promise<void>((resolve) => ecs.listen(0, '127.0.0.1', resolve));
    const proxy = await startRecordingProxy('ecs', `http://127.0.0.1:${(ecs.address() as AddressInfo).port}`);
    const variables = (resource(json, workerId).Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    const config = loadConfig({ TABLE_NAME: 'tasks', [ENV.containerTasks]: JSON.stringify(resolvedJson(variables[ENV.containerTasks])) });
    const client = new ECSClient(localClientConfig(proxy.endpoint));
    const refOf = (value: string) => /^<Ref:(\w+)>$/.exec(value)?.[1] ?? value;
    const definitionOf = (id: string) => resolveIntrinsics(resource(json, id).Properties ?? {}, placeholders) as { TaskRoleArn?: string; ExecutionRoleArn?: string };
    const arns = {
      tableArn: (name: string) => name,
      queueArn: (url: string) => url,
      secretArn: (id: string) => id,
      // RunTask names a cluster by name (a cluster's Ref) or ARN, a task definition by ARN (a task definition's Ref).
      clusterArn: (nameOrArn: string) => (refOf(nameOrArn) === nameOrArn ? nameOrArn : `<${refOf(nameOrArn)}.Arn>`),
      taskDefinition: (arn: string) => {
        const { TaskRoleArn, ExecutionRoleArn } = definitionOf(refOf(arn));
        return { arn, ...(TaskRoleArn ? { taskRoleArn: TaskRoleArn } : {}), ...(ExecutionRoleArn ? { executionRoleArn: ExecutionRoleArn } : {}) };
      },
    };
    const run = { task: long.taskName, transient: 'sn1', token: 'sn1.t1', attempt: 1, messageId: 'm1', receiptHandle: 'r1', claimedAt: 0, generation: 0 };

    // Act: a start as the worker makes it, then one aimed at the account's default cluster
    try {
      await ecsContainerRuns(client, config.containerTasks ?? {}).start(run);
      const elsewhere = Object.fromEntries(Object.entries(config.containerTasks ?? {}).map(([task, entry]) => [task, { ...entry, cluster: 'default' }]));
      await ecsContainerRuns(client, elsewhere).start(run);
    } finally {
      client.destroy();
      await proxy.stop();
      await new Promise((resolve) => ecs.close(resolve));
    }

    // Assess
    const grants = grantsOf(json, workerId);
    const [started, misdirected] = proxy.calls.map((call) => requiredPermissions(call, arns));
    expect(started?.map((need) => `${need.action} ${need.resource}`).sort()).toEqual(
      [`ecs:RunTask <Ref:${logicalId(container.taskDefinition)}>`, `iam:PassRole ${arnOf(container.executionRole)}`, `iam:PassRole ${arnOf(container.taskRole)}`].sort(),
    );
    expect(started?.filter((need) => !allows(grants, need.action, need.resource, need.context))).toEqual([]);
    expect(misdirected?.filter((need) => !allows(grants, need.action, need.resource, need.context)).map((need) => need.action)).toEqual(['ecs:RunTask']);
  });

  it('gives the task role the queue actions of the protocol only, and its code asset to read', () => {
    const lines = grantLines(grantsOfRole(json, taskRoleId)).filter((line) => !line.startsWith('dynamodb:'));
    const successors = stack.workflow.dependents.get(long.taskName) ?? [];
    const queueArn = arnOf(built.queue);
    expect(lines.filter((line) => line.startsWith('sqs:'))).toEqual([
      `sqs:ChangeMessageVisibility ${queueArn}`,
      `sqs:DeleteMessage ${queueArn}`,
      ...successors.map((task) => `sqs:SendMessage ${arnOf(stack.transientRunners.find((candidate) => candidate.taskName === task)?.queue ?? built.queue)}`),
    ]);
    expect(lines.every((line) => /^(sqs|s3):/.test(line))).toBe(true);
    expect(lines.filter((line) => line.startsWith('s3:')).length).toBeGreaterThan(0);
  });

  it("lets the runs of a runner that declares usesArtifacts write their own task's artifacts and read any, and tells them where; its worker, which only starts them, reaches none", () => {
    if (!stack.scratch) throw new Error('no bucket for the artifacts');
    const bucket = arnOf(stack.scratch.bucket);
    const artifactLines = (lines: string[]) => lines.filter((line) => line.includes('/artifacts/'));
    const expected = [`s3:GetObject ${bucket}/artifacts/*`, `s3:PutObject ${bucket}/artifacts/*/${encodeURIComponent(long.taskName)}/*`];
    expect(artifactLines(grantLines(grantsOfRole(json, taskRoleId)))).toEqual(expected);
    expect(grantLines(grantsOf(json, workerId)).filter((line) => line.startsWith('s3:'))).toEqual([]);
    expect(Object.keys((resource(json, workerId).Properties?.Environment as { Variables: Record<string, unknown> }).Variables)).not.toContain(ENV.artifactLocation);
    const run = (resource(json, logicalId(container.taskDefinition)).Properties?.ContainerDefinitions as { Name: string; Environment?: { Name: string }[] }[]).find((entry) => entry.Name === RUN_CONTAINER);
    expect(run?.Environment?.map((variable) => variable.Name)).toContain(ENV.artifactLocation);
  });

  it('reaches its own register (heartbeats, settle) and its dependents\' ready markers, nothing else of the table', () => {
    const grants = grantsOfRole(json, taskRoleId);
    const tableArn = arnOf(stack.table.table);
    const dependent = (stack.workflow.dependents.get(long.taskName) ?? [])[0];
    const unrelated = registry.filter(isTransientRunner).map((candidate) => candidate.taskName).find((task) => task !== long.taskName && task !== dependent && !(stack.workflow.dependents.get(long.taskName) ?? []).includes(task));
    expect(allows(grants, 'dynamodb:UpdateItem', tableArn, { [LEADING_KEYS]: [keys.transient('sn1').pk] })).toBe(true);
    if (dependent) expect(allows(grants, 'dynamodb:PutItem', tableArn, { [LEADING_KEYS]: [keys.marker(dependent, 0, 'p', 'id').pk] })).toBe(true);
    if (unrelated) expect(allows(grants, 'dynamodb:PutItem', tableArn, { [LEADING_KEYS]: [keys.marker(unrelated, 0, 'p', 'id').pk] })).toBe(false);
    expect(allows(grants, 'dynamodb:PutItem', tableArn, { [LEADING_KEYS]: [keys.lock(long.taskName).pk] })).toBe(false);
    expect([...new Set(grants.map((grant) => grant.action).filter((action) => action.startsWith('dynamodb:')))].sort()).toEqual(
      [...new Set(grantsOf(json, workerId).map((grant) => grant.action).filter((action) => action.startsWith('dynamodb:')))].sort(),
    );
  });

  it('writes its logs to a log group of its own, through an execution role that may do nothing else', () => {
    expect(grantLines(grantsOfRole(json, logicalId(container.executionRole)))).toEqual([`logs:CreateLogStream ${arnOf(container.logGroup)}`, `logs:PutLogEvents ${arnOf(container.logGroup)}`]);
  });

  it('runs in a VPC of public subnets with no NAT gateway, in a security group that lets nothing in', () => {
    expect(resourcesOfType(json, 'AWS::EC2::NatGateway')).toEqual([]);
    expect(resourcesOfType(json, 'AWS::EC2::Subnet').every(([, subnet]) => subnet.Properties?.MapPublicIpOnLaunch === true)).toBe(true);
    const groups = resourcesOfType(json, 'AWS::EC2::SecurityGroup');
    expect(groups).toHaveLength(1);
    expect(groups[0]?.[1].Properties?.SecurityGroupIngress).toBeUndefined();
  });

  it('bundles the run into one ES module that starts as the container starts it, asking for its run', () => {
    const outfile = join(mkdtempSync(join(tmpdir(), 'container-bundle-')), 'container-run.mjs');
    bundleContainerRun(outfile);
    // Outside the project (as in the container): nothing of node_modules to fall back on.
    const started = spawnSync(process.execPath, [outfile], { cwd: dirname(outfile), encoding: 'utf8', env: { PATH: process.env.PATH ?? '', TABLE_NAME: 'tasks', FIXTURES_DIR: join(PROJECT_ROOT, 'fixtures'), AWS_REGION: 'eu-west-1' } });
    expect(started.status).toBe(1);
    expect(started.stdout + started.stderr).toContain(`${ENV.containerRun} is not set`);
  }, 60_000);

  it('bundles the registry module its stack names in place of runners/registry.ts, and names the asset by what it bundled', () => {
    // Prepare: the run's code asset alone, in a stack naming another registry module and in one naming none, in one
    // app (where CDK reuses a bundle whose options it finds equal)
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'container-asset-')) });
    const codeAsset = (registryModule?: string) => {
      const scope = new Stack(app, registryModule ? 'Given' : 'Standard');
      if (registryModule) scope.node.setContext(REGISTRY_MODULE_CONTEXT, registryModule);
      const bundleOf = new ContainerRunner(scope, 'Container', {
        runner: long, table: new Table(scope, 'Table', { partitionKey: { name: 'pk', type: AttributeType.STRING } }), queue: new Queue(scope, 'Queue'),
        makesReady: [], queueUrls: '{}', fixturesDir: join(PROJECT_ROOT, 'fixtures'),
      }).assets[0];
      if (!bundleOf) throw new Error('the container runner has no code asset');
      const file = join(app.outdir, `asset.${bundleOf.assetHash}.mjs`);
      const inline = /sourceMappingURL=data:application\/json;base64,(.+)$/m.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
      const sources = (JSON.parse(Buffer.from(inline, 'base64').toString('utf8')) as { sources: string[] }).sources;
      return { hash: bundleOf.assetHash, sources };
    };

    // Act
    const [given, standard] = [codeAsset(CONTAINER_REGISTRY_MODULE), codeAsset()];

    // Assess
    expect(given.sources.some((source) => source.endsWith(CONTAINER_REGISTRY_MODULE))).toBe(true);
    expect(standard.sources.some((source) => source.endsWith(CONTAINER_REGISTRY_MODULE))).toBe(false);
    expect(standard.sources.some((source) => source.endsWith('runners/registry.ts'))).toBe(true);
    // A deploy uploads the new code: the asset's name follows the bundle, not the entry points' folder.
    expect(given.hash).not.toBe(standard.hash);
  }, 120_000);

  it('leaves cdk-nag nothing unacknowledged', () => {
    const findings = new AwsSolutionsChecks().validateScope(stack).violations.map((violation) => `${violation.ruleName} at ${violation.violatingResources.map((found) => found.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
  });
});
