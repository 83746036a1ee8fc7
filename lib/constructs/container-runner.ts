/**
 * The container side of a runner with `compute: 'container'`: a Fargate task definition whose runs its worker starts
 * (lib/container/ecs-container-runs.ts). No image is built: the run's container is a public Node.js image, and its
 * code, the esbuild bundle of functions/container-run.ts with the fixtures, is a set of S3 assets that a first
 * container (the public AWS CLI image) copies, with the task role, into a volume both containers share. The task
 * role may reach exactly what the run's protocol needs: the items its worker reaches (less the claim) plus the
 * lease, its own queue's message (visibility, delete) and its successors' queues; its logs go to a log group of its own.
 */
import { join } from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type ContainerDefinition, ContainerDependencyCondition, ContainerImage, CpuArchitecture, FargateTaskDefinition, LogDrivers, OperatingSystemFamily } from 'aws-cdk-lib/aws-ecs';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { BundlingOutput, DockerImage } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { buildSync } from 'esbuild';
import { fargateCpuFor } from '../domain/compute';
import { CONTAINER_RUN_STORE_USE } from '../engine/store-use';
import { ServiceName } from '../engine/telemetry';
import { STATUS_FIXTURE, TASK_FIXTURE } from '../fixtures/load-catalog';
import type { TransientTaskRunner } from '../runner';
import { ENV } from '../settings/config';
import type { ContainerNetwork } from './container-network';
import { PROJECT_ROOT, grantStoreTo } from './handler-function';

/** The run's container: Node.js 22 (the Lambda functions' runtime) on Debian, from the public ECR gallery. */
export const RUN_IMAGE = 'public.ecr.aws/docker/library/node:22-bookworm-slim';
/** The container that fetches the code: the AWS CLI, from the public ECR gallery. */
export const FETCH_IMAGE = 'public.ecr.aws/aws-cli/aws-cli:latest';
/** The run container's name (RunTask's override names it). */
export const RUN_CONTAINER = 'run';
/** Where the shared volume is mounted in both containers. */
export const CODE_DIR = '/code';
const BUNDLE = 'container-run.mjs';

/** Bundles functions/container-run.ts into one ES module file, as the run's container runs it (`node <file>`). */
export const bundleContainerRun = (outfile: string): void => {
  buildSync({
    entryPoints: [join(PROJECT_ROOT, 'functions', 'container-run.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    // Error names (TaskRunnerError's subclasses) appear in registers and logs.
    keepNames: true,
    sourcemap: 'inline',
    mainFields: ['module', 'main'],
    // Some bundled CommonJS dependencies call require() for Node's built-ins; ESM has no require of its own.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'error',
  });
};

export interface ContainerRunnerProps {
  readonly runner: TransientTaskRunner;
  readonly table: ITable;
  /** The runner's queue: the run changes its message's visibility and deletes it. */
  readonly queue: IQueue;
  /** The tasks a change to this runner's register can make ready (as for its worker). */
  readonly makesReady: readonly string[];
  /** Task → URL of the queues the run sends to (its own and its successors'), as JSON; a Lazy, read at synth. */
  readonly queueUrls: string;
  readonly fixturesDir: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays | undefined;
}

export class ContainerRunner extends Construct {
  readonly taskDefinition: FargateTaskDefinition;
  readonly taskRole: Role;
  /** The container that runs the run (its environment is the run's). */
  readonly runContainer: ContainerDefinition;
  readonly executionRole: Role;
  readonly logGroup: LogGroup;
  /** The code and fixtures the fetch container copies. */
  readonly assets: readonly Asset[];
  private sendStatement?: PolicyStatement;

  constructor(scope: Construct, id: string, props: ContainerRunnerProps) {
    super(scope, id);
    const { runner, table } = props;
    const cpu = fargateCpuFor(runner.memorySize);
    if (cpu === undefined) throw new Error(`${this.node.path}: memorySize ${runner.memorySize} MB is not a Fargate task's memory`);

    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    this.taskRole = new Role(this, 'TaskRole', { assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'), description: `Blast container runs of "${runner.taskName}" (${this.node.path})` });
    this.executionRole = new Role(this, 'ExecutionRole', { assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'), description: `ECS agent of "${runner.taskName}"'s runs: their logs only` });
    this.taskDefinition = new FargateTaskDefinition(this, 'TaskDefinition', {
      cpu,
      memoryLimitMiB: runner.memorySize,
      runtimePlatform: { cpuArchitecture: CpuArchitecture.ARM64, operatingSystemFamily: OperatingSystemFamily.LINUX },
      taskRole: this.taskRole,
      executionRole: this.executionRole,
      volumes: [{ name: 'code' }],
    });

    const bundle = new Asset(this, 'Code', {
      path: join(PROJECT_ROOT, 'functions'),
      bundling: {
        image: DockerImage.fromRegistry('none'),
        outputType: BundlingOutput.SINGLE_FILE,
        local: {
          tryBundle: (outputDir: string) => {
            bundleContainerRun(join(outputDir, BUNDLE));
            return true;
          },
        },
      },
    });
    const fixtures = [STATUS_FIXTURE, TASK_FIXTURE].map((file, index) => new Asset(this, `Fixture${index}`, { path: join(props.fixturesDir, file) }));
    this.assets = [bundle, ...fixtures];
    // The fetch container reads exactly these objects (not the whole asset bucket, as Asset.grantRead would allow).
    this.taskRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: this.assets.map((asset) => Stack.of(this).formatArn({ service: 's3', region: '', account: '', resource: asset.s3BucketName, resourceName: asset.s3ObjectKey })) }),
    );
    const copies = [
      `aws s3 cp ${bundle.s3ObjectUrl} ${CODE_DIR}/${BUNDLE}`,
      ...[STATUS_FIXTURE, TASK_FIXTURE].map((file, index) => `aws s3 cp ${fixtures[index]?.s3ObjectUrl ?? ''} ${CODE_DIR}/fixtures/${file}`),
    ];

    const logging = (prefix: string) => LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: prefix });
    const fetch = this.taskDefinition.addContainer('Fetch', {
      containerName: 'fetch',
      image: ContainerImage.fromRegistry(FETCH_IMAGE),
      essential: false,
      entryPoint: ['sh', '-c'],
      command: [copies.join(' && ')],
      logging: logging('fetch'),
    });
    const run = this.taskDefinition.addContainer('Run', {
      containerName: RUN_CONTAINER,
      image: ContainerImage.fromRegistry(RUN_IMAGE),
      command: ['node', '--enable-source-maps', `${CODE_DIR}/${BUNDLE}`],
      logging: logging('run'),
      environment: {
        POWERTOOLS_SERVICE_NAME: ServiceName.ContainerRun,
        AWS_REGION: Stack.of(this).region,
        [ENV.fixturesDir]: `${CODE_DIR}/fixtures`,
        [ENV.tableName]: table.tableName,
        // Its own queue and its successors' (a Lazy of the worker's, which grows as successors are wired).
        [ENV.queueUrls]: props.queueUrls,
      },
      stopTimeout: Duration.seconds(30),
    });
    this.runContainer = run;
    for (const container of [fetch, run]) container.addMountPoints({ sourceVolume: 'code', containerPath: CODE_DIR, readOnly: container === run });
    run.addContainerDependencies({ container: fetch, condition: ContainerDependencyCondition.SUCCESS });

    grantStoreTo(this.taskRole, table, CONTAINER_RUN_STORE_USE, { ready: props.makesReady });
    this.taskRole.addToPrincipalPolicy(new PolicyStatement({ actions: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'], resources: [props.queue.queueArn] }));

    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The environment holds the names of the table and queues and the fixtures\' folder, as the Lambda functions\' does; no secret is ever in it (secrets come from Secrets Manager).',
    });
  }

  /** Lets the worker start runs of this task definition on the network's cluster, and pass its two roles to ECS. */
  grantRun(role: Role, network: ContainerNetwork): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['ecs:RunTask'], resources: [this.taskDefinition.taskDefinitionArn], conditions: { StringEquals: { 'ecs:cluster': network.cluster.clusterArn } } }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.taskRole.roleArn, this.executionRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
  }

  /** Lets the runs send `queue`'s tasks (a successor's) once they become ready. */
  sendsTo(queue: IQueue): void {
    if (this.sendStatement) this.sendStatement.addResources(queue.queueArn);
    else {
      this.sendStatement = new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] });
      this.taskRole.addToPrincipalPolicy(this.sendStatement);
    }
  }
}
