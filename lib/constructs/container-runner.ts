/**
 * The container side of a runner with `compute: 'container'`: a Fargate task definition whose runs its worker starts
 * (lib/container/ecs-container-runs.ts). No image is built: the run's container is a public Node.js image, and its
 * code, the esbuild bundle of functions/container-run.ts with the fixtures, is a set of S3 assets that a first
 * container (the public AWS CLI image) copies, with the task role, into a volume both containers share. The task
 * role may reach exactly what the run's protocol needs: the items its worker reaches (less the claim) plus the
 * lease, its own queue's message (visibility, delete) and its successors' queues; its logs go to a log group of its own.
 *
 * A Python runner's `_run_process` runs in a third container, from the public Python image of Lambda's Python version
 * (on Lambda's machine, which the whole task then runs on): python/blast_tasks/invoke_server.py serves the runner's
 * handler behind Lambda's Invoke on the task's loopback interface, and the run container calls it as a worker calls a
 * Python runner's function. Its code (blast_tasks and the runner's folder) and the lock's packages (installed for
 * that Python and machine at synth, the Lambda layer's own asset) are two more assets the fetch container copies. It
 * runs without the task role's credentials unless the runner declares artifacts, which it then reads and writes itself.
 */
import { join } from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type ContainerDefinition, ContainerDependencyCondition, ContainerImage, CpuArchitecture, FargateTaskDefinition, LogDrivers, OperatingSystemFamily } from 'aws-cdk-lib/aws-ecs';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { AssetHashType, BundlingOutput, DockerImage } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { buildSync } from 'esbuild';
import { fargateCpuFor } from '../domain/compute';
import { CONTAINER_RUN_STORE_USE } from '../engine/store-use';
import { ServiceName } from '../engine/telemetry';
import { STATUS_FIXTURE, TASK_FIXTURE } from '../fixtures/load-catalog';
import { artifactUseOf } from '../domain/declaration';
import { CONTAINER_FUNCTION_NAME, INVOKE_SERVER_MODULE } from '../python/container-server';
import { type TransientTaskRunner, isPythonRunner } from '../runner';
import { ENV } from '../settings/config';
import { REGISTRY_IMPORT } from '../settings/registry';
import type { ContainerNetwork } from './container-network';
import { PROJECT_ROOT, grantStoreTo, registryAlias } from './handler-function';
import { LocalBundling } from './local-bundling';
import { LAMBDA_PYTHON_TARGET, pythonPackagesAssetOptions } from './python-packages-layer';
import { copyPythonRunnerCode } from './python-runner-function';
import { PYTHON_ARCHITECTURE } from './python-runtime';

/** The run's container: Node.js 22 (the Lambda functions' runtime) on Debian, from the public ECR gallery. */
export const RUN_IMAGE = 'public.ecr.aws/docker/library/node:22-bookworm-slim';
/**
 * The container that fetches the code: the AWS CLI, from the public ECR gallery (multi-architecture). A release, not
 * `latest`, so that a run starts the CLI it was deployed with; it only runs `aws s3 cp`, so raising it is a one-line change.
 */
export const FETCH_IMAGE = 'public.ecr.aws/aws-cli/aws-cli:2.32.9';
/** The run container's name (RunTask's override names it). */
export const RUN_CONTAINER = 'run';
/** Where the shared volume is mounted in both containers. */
export const CODE_DIR = '/code';
const BUNDLE = 'container-run.mjs';

/** A Python runner's container: the public Python image of Lambda's Python version (Debian, whose glibc takes the lock's manylinux wheels). */
export const PYTHON_IMAGE = `public.ecr.aws/docker/library/python:${LAMBDA_PYTHON_TARGET.pythonVersion}-slim-bookworm`;
/** Its name in the task definition. */
export const PYTHON_CONTAINER = 'python';
/** The loopback port it serves the runner's handler on (the task's containers share one network namespace). */
export const PYTHON_PORT = 8080;
/** Where it unpacks its code and packages (its own file system: the shared volume stays read-only to it). */
export const PYTHON_HOME = '/opt/blast';
/** The variable through which a container reaches the task role's credentials (set by ECS in every container). */
export const TASK_CREDENTIALS_VARIABLE = 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI';

/**
 * Bundles functions/container-run.ts into one ES module file, as the run's container runs it (`node <file>`), with
 * the registry `alias` names (registryAlias) in place of runners/registry.ts.
 */
export const bundleContainerRun = (outfile: string, alias: Readonly<Record<string, string>> = {}): void => {
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
    alias: { ...alias },
    logLevel: 'error',
  });
};

const cpuOf = (architecture: Architecture): CpuArchitecture => (architecture === Architecture.ARM_64 ? CpuArchitecture.ARM64 : CpuArchitecture.X86_64);

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
  /** A Python runner's container, which serves its handler to the run container. */
  readonly pythonContainer?: ContainerDefinition;
  /** The code and fixtures the fetch container copies (and a Python runner's code and packages). */
  readonly assets: readonly Asset[];
  private sendStatement?: PolicyStatement;

  constructor(scope: Construct, id: string, props: ContainerRunnerProps) {
    super(scope, id);
    const { runner, table } = props;
    const python = isPythonRunner(runner) ? runner.python : undefined;
    const cpu = fargateCpuFor(runner.memorySize);
    if (cpu === undefined) throw new Error(`${this.node.path}: memorySize ${runner.memorySize} MB is not a Fargate task's memory`);

    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    this.taskRole = new Role(this, 'TaskRole', { assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'), description: `Blast container runs of "${runner.taskName}" (${this.node.path})` });
    this.executionRole = new Role(this, 'ExecutionRole', { assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'), description: `ECS agent of "${runner.taskName}"'s runs: their logs only` });
    this.taskDefinition = new FargateTaskDefinition(this, 'TaskDefinition', {
      cpu,
      memoryLimitMiB: runner.memorySize,
      // A Python runner's packages are built for Lambda's machine (x86_64 for now: python-runtime.ts); the rest runs on either.
      runtimePlatform: { cpuArchitecture: python ? cpuOf(PYTHON_ARCHITECTURE) : CpuArchitecture.ARM64, operatingSystemFamily: OperatingSystemFamily.LINUX },
      taskRole: this.taskRole,
      executionRole: this.executionRole,
      volumes: [{ name: 'code' }],
    });

    const alias = registryAlias(this);
    const bundle = new Asset(this, 'Code', {
      path: join(PROJECT_ROOT, 'functions'),
      // Named by what was bundled (the runners' code and the registry included), not by the entry points' folder.
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        image: DockerImage.fromRegistry('none'),
        outputType: BundlingOutput.SINGLE_FILE,
        local: new LocalBundling({ registry: alias[REGISTRY_IMPORT] ?? '' }, (outputDir) => bundleContainerRun(join(outputDir, BUNDLE), alias)),
      },
    });
    const fixtures = [STATUS_FIXTURE, TASK_FIXTURE].map((file, index) => new Asset(this, `Fixture${index}`, { path: join(props.fixturesDir, file) }));
    const pythonAssets = python
      ? {
          code: new Asset(this, 'PythonCode', {
            path: join(PROJECT_ROOT, 'python'),
            assetHashType: AssetHashType.OUTPUT,
            bundling: {
              // Never used: the local bundling below always succeeds (synth runs no Docker).
              image: DockerImage.fromRegistry(PYTHON_IMAGE),
              local: new LocalBundling({ file: python.file }, (outputDir) => copyPythonRunnerCode(outputDir, python.file)),
            },
          }),
          packages: new Asset(this, 'PythonPackages', { path: join(PROJECT_ROOT, 'python'), ...pythonPackagesAssetOptions() }),
        }
      : undefined;
    this.assets = [bundle, ...fixtures, ...(pythonAssets ? [pythonAssets.code, pythonAssets.packages] : [])];
    // The fetch container reads exactly these objects (not the whole asset bucket, as Asset.grantRead would allow).
    this.taskRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: this.assets.map((asset) => Stack.of(this).formatArn({ service: 's3', region: '', account: '', resource: asset.s3BucketName, resourceName: asset.s3ObjectKey })) }),
    );
    const copies = [
      `aws s3 cp ${bundle.s3ObjectUrl} ${CODE_DIR}/${BUNDLE}`,
      ...[STATUS_FIXTURE, TASK_FIXTURE].map((file, index) => `aws s3 cp ${fixtures[index]?.s3ObjectUrl ?? ''} ${CODE_DIR}/fixtures/${file}`),
      ...(pythonAssets ? [`aws s3 cp ${pythonAssets.code.s3ObjectUrl} ${CODE_DIR}/python-code.zip`, `aws s3 cp ${pythonAssets.packages.s3ObjectUrl} ${CODE_DIR}/python-packages.zip`] : []),
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

    if (python) {
      const use = artifactUseOf(runner);
      // Its `_run_process` reaches AWS only for the artifacts the runner declares; otherwise it gets no credentials.
      const credentials = use.reads || use.writes ? '' : `-u ${TASK_CREDENTIALS_VARIABLE} `;
      const server = this.taskDefinition.addContainer('Python', {
        containerName: PYTHON_CONTAINER,
        image: ContainerImage.fromRegistry(PYTHON_IMAGE),
        entryPoint: ['sh', '-c'],
        command: [
          [
            `python -m zipfile -e ${CODE_DIR}/python-packages.zip ${PYTHON_HOME}/packages`,
            `python -m zipfile -e ${CODE_DIR}/python-code.zip ${PYTHON_HOME}/code`,
            `cd ${PYTHON_HOME}/code`,
            `exec env ${credentials}python -m ${INVOKE_SERVER_MODULE} ${PYTHON_PORT}`,
          ].join(' && '),
        ],
        logging: logging('python'),
        environment: {
          AWS_REGION: Stack.of(this).region,
          BLAST_RUNNER_FILE: python.file,
          BLAST_RUNNER_CLASS: python.className,
          // The lock's packages are in the layer's layout (python/), as Lambda puts them on sys.path.
          PYTHONPATH: `${PYTHON_HOME}/code:${PYTHON_HOME}/packages/python`,
          PYTHONUNBUFFERED: '1',
          PYTHONDONTWRITEBYTECODE: '1',
        },
        // Healthy once the runner's class has been imported and the server answers; unpacking the packages comes
        // first (ECS's longest start period: a small task's CPU unpacks a few hundred MB slowly).
        healthCheck: {
          command: ['CMD', 'python', '-c', `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${PYTHON_PORT}/ping', timeout=2)`],
          interval: Duration.seconds(5),
          timeout: Duration.seconds(3),
          retries: 3,
          startPeriod: Duration.seconds(300),
        },
        stopTimeout: Duration.seconds(30),
      });
      server.addMountPoints({ sourceVolume: 'code', containerPath: CODE_DIR, readOnly: true });
      server.addContainerDependencies({ container: fetch, condition: ContainerDependencyCondition.SUCCESS });
      run.addContainerDependencies({ container: server, condition: ContainerDependencyCondition.HEALTHY });
      // The run calls the runner's handler as a worker calls a Python runner's function (lib/python/lambda-functions.ts).
      run.addEnvironment('AWS_ENDPOINT_URL_LAMBDA', `http://127.0.0.1:${PYTHON_PORT}`);
      run.addEnvironment(ENV.runnerFunctions, Stack.of(this).toJsonString({ [runner.taskName]: CONTAINER_FUNCTION_NAME }));
      this.pythonContainer = server;
    }

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
