/**
 * A synthesized template deployed onto DynamoDB Local, the SQS emulator and the S3 emulator, as
 * CloudFormation would deploy it on AWS: the table, the queues and the buckets with the template's
 * properties, every function's bundled asset in its own process with the template's environment
 * (references resolved to the local names and ARNs) and its own credentials, every event source mapping
 * polling with the function's credentials, and every schedule ready to fire its target with its input,
 * provided the template lets EventBridge invoke that target. Secrets are not the template's: they exist
 * beforehand, as in AWS (here in the Secrets Manager stand-in the functions are pointed at).
 *
 * Container runs: the network (VPC, subnets, routes, internet gateway, security group) and the cluster have no
 * local meaning beyond their ids and ARNs, which references resolve to; each task definition is registered with
 * an ECS stand-in (test/helpers/ecs-stand-in.ts) that the functions reach at their `ecs` endpoint, and a task it
 * starts runs its containers as processes (test/helpers/local-task.ts) with the template's commands and
 * environment, RunTask's overrides, the task role's credentials (its logical id as access key) and the functions'
 * endpoints; an `aws` on their PATH copies from S3 (test/helpers/aws-cli-stand-in.ts). The assets the task
 * definitions name are uploaded beforehand to the asset bucket they name, as `cdk deploy` publishes them. Only the
 * fetch (AWS CLI) and run (Node.js) images are stood in for: a template with another (a Python runner's) is refused.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { BucketAlreadyOwnedByYou, CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { buildSync } from 'esbuild';
import { zipSync } from 'fflate';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { FETCH_IMAGE, RUN_IMAGE } from '../../lib/constructs/container-runner';
import { LAMBDA_TASK_ROOT } from '../../lib/constructs/handler-function';
import { PYTHON_HANDLER } from '../../lib/constructs/python-runner-function';
import { type PythonFunctionSpec, servePythonFunctions } from '../../lib/local/python-functions';
import { SqsEventSource } from '../../lib/local/event-source';
import { localAwsEnv, localClientConfig } from '../../lib/local/services';
import { type AcceptedRunTask, EcsStandIn, type EcsTaskDefinition } from './ecs-stand-in';
import { FunctionHost } from './function-host';
import { type DependencyCondition, type LocalContainerSpec, LocalTask } from './local-task';
import { type CfnResource, type CfnTemplate, type IntrinsicResolver, resolveIntrinsics, resourcesOfType } from './template';

const REGION = localAwsEnv.AWS_REGION;
const ACCOUNT = '000000000000';

export interface Endpoints {
  readonly dynamodb: string;
  readonly sqs: string;
  /** Needed when the template has a bucket. */
  readonly s3?: string;
  /** Where the functions find Secrets Manager. @default none: a function that reads a secret fails */
  readonly secretsManager?: string;
  /** Where the functions find Lambda's Invoke (a worker invoking its Python runner's function). @default none */
  readonly lambda?: string;
  /** Where the functions find ECS's RunTask (a worker starting a container run). @default none */
  readonly ecs?: string;
}

export interface LocalDeploymentOptions {
  readonly template: CfnTemplate;
  /** The cloud assembly folder that holds the assets. */
  readonly assemblyDir: string;
  /** Prefixes every table, queue and function name, so deployments on the shared services never meet. */
  readonly prefix: string;
  /** Where the test itself reaches the services. */
  readonly direct: Endpoints;
  /** Where the functions reach them (e.g. recording proxies). */
  readonly forFunctions: Endpoints;
}

export interface DeployedQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

/** What runs a function: the bundled Node handler in its process, or a Python function behind the deployment's Invoke endpoint. */
export interface Host {
  /** What the function wrote (Node: its JSON log lines and EMF documents; Python: what the runner printed). */
  readonly output: string[];
  invoke(event: unknown, timeoutMs: number): Promise<unknown>;
  stop(): Promise<void>;
}

export interface DeployedFunction {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** The function's credentials: its access key id is its logical id. */
  readonly accessKeyId: string;
  /** Its POWERTOOLS_SERVICE_NAME: which handler it runs. */
  readonly serviceName: string;
  readonly timeoutMs: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly runtime: 'nodejs' | 'python';
  readonly host: Host;
}

export interface DeployedTaskDefinition extends EcsTaskDefinition {
  readonly logicalId: string;
  /** The logical ids of its roles: the task role's is its containers' access key id. */
  readonly taskRoleId?: string;
  readonly executionRoleId?: string;
  readonly taskRoleArn?: string;
  readonly executionRoleArn?: string;
  readonly volumes: readonly string[];
  readonly containers: readonly (Omit<LocalContainerSpec, 'environment'> & { readonly environment: Readonly<Record<string, string>> })[];
}

/** A task the ECS stand-in started: what RunTask asked for, and its containers' processes. */
export interface StartedTask {
  readonly request: AcceptedRunTask;
  readonly definition: DeployedTaskDefinition;
  /** The access key its containers sign with: its task role's logical id. */
  readonly accessKeyId?: string;
  readonly task: LocalTask;
}

const props = <T extends z.ZodType>(resource: CfnResource, schema: T, resolver: IntrinsicResolver): z.infer<T> =>
  schema.parse(resolveIntrinsics(resource.Properties ?? {}, resolver));

const tableProps = z.strictObject({
  KeySchema: z.array(z.strictObject({ AttributeName: z.string(), KeyType: z.enum(['HASH', 'RANGE']) })),
  AttributeDefinitions: z.array(z.strictObject({ AttributeName: z.string(), AttributeType: z.enum(['S', 'N', 'B']) })),
  BillingMode: z.literal('PAY_PER_REQUEST'),
  GlobalSecondaryIndexes: z
    .array(
      z.strictObject({
        IndexName: z.string(),
        KeySchema: z.array(z.strictObject({ AttributeName: z.string(), KeyType: z.enum(['HASH', 'RANGE']) })),
        Projection: z.strictObject({ ProjectionType: z.enum(['KEYS_ONLY', 'ALL', 'INCLUDE']), NonKeyAttributes: z.array(z.string()).optional() }),
      }),
    )
    .optional(),
  // Backups are AWS's business; nothing to emulate here.
  PointInTimeRecoverySpecification: z.unknown().optional(),
  // Set on DynamoDB Local as given (which keeps the setting, and deletes nothing by it).
  TimeToLiveSpecification: z.strictObject({ AttributeName: z.string(), Enabled: z.boolean() }).optional(),
});

const queueProps = z.strictObject({
  // SQS's default, for a queue nobody consumes (the dead-letter failures).
  VisibilityTimeout: z.number().int().default(30),
  MessageRetentionPeriod: z.number().int(),
  RedrivePolicy: z.strictObject({ deadLetterTargetArn: z.string(), maxReceiveCount: z.number().int() }).optional(),
  // Encryption at rest has no local counterpart.
  SqsManagedSseEnabled: z.boolean().optional(),
});

const functionProps = z.looseObject({
  Code: z.looseObject({ S3Key: z.string().regex(/^[0-9a-f]{64}\.zip$/) }),
  Runtime: z.string().regex(/^(nodejs|python)\d/),
  Handler: z.union([z.literal('index.handler'), z.literal(PYTHON_HANDLER)]),
  MemorySize: z.number().int(),
  Timeout: z.number().int(),
  Environment: z.strictObject({ Variables: z.record(z.string(), z.string()) }).optional(),
});

const eventSourceProps = z.looseObject({
  EventSourceArn: z.string(),
  FunctionName: z.string(),
  BatchSize: z.number().int(),
  ScalingConfig: z.strictObject({ MaximumConcurrency: z.number().int() }),
  // The event source emulation deletes only what the handler did not report as failed.
  FunctionResponseTypes: z.tuple([z.literal('ReportBatchItemFailures')]),
});

const ruleProps = z.looseObject({
  ScheduleExpression: z.string(),
  State: z.enum(['ENABLED', 'DISABLED']),
  Targets: z.array(z.looseObject({ Arn: z.string(), Input: z.string() })).length(1),
});

const bucketProps = z.strictObject({
  // Encryption at rest, public access, object ownership and expiry have no local counterpart.
  BucketEncryption: z.unknown().optional(),
  PublicAccessBlockConfiguration: z.unknown().optional(),
  OwnershipControls: z.unknown().optional(),
  LifecycleConfiguration: z.unknown().optional(),
  // The CDK's bucket deployment tags the buckets it fills.
  Tags: z.array(z.strictObject({ Key: z.string(), Value: z.string() })).optional(),
});

const containerProps = z.strictObject({
  Name: z.string(),
  // No image is pulled: the container's process runs on this machine (test/helpers/local-task.ts).
  Image: z.string(),
  Essential: z.boolean().default(true),
  EntryPoint: z.array(z.string()).optional(),
  Command: z.array(z.string()).optional(),
  Environment: z.array(z.strictObject({ Name: z.string(), Value: z.string() })).optional(),
  MountPoints: z.array(z.strictObject({ SourceVolume: z.string(), ContainerPath: z.string(), ReadOnly: z.boolean().optional() })).optional(),
  DependsOn: z.array(z.strictObject({ ContainerName: z.string(), Condition: z.enum(['START', 'COMPLETE', 'SUCCESS', 'HEALTHY']) })).optional(),
  HealthCheck: z
    .strictObject({
      Command: z.array(z.string()).min(2),
      Interval: z.number().int().default(30),
      Timeout: z.number().int().default(5),
      Retries: z.number().int().default(3),
      StartPeriod: z.number().int().optional(),
    })
    .optional(),
  // Log shipping is the execution role's, on AWS; here each container's output is kept.
  LogConfiguration: z.unknown().optional(),
  StopTimeout: z.number().int().default(30),
});

const taskDefinitionProps = z.strictObject({
  ContainerDefinitions: z.array(containerProps).min(1),
  Family: z.string(),
  // Sizes and the machine have no local counterpart.
  Cpu: z.string(),
  Memory: z.string(),
  RuntimePlatform: z.unknown().optional(),
  NetworkMode: z.literal('awsvpc'),
  RequiresCompatibilities: z.array(z.literal('FARGATE')),
  TaskRoleArn: z.string().optional(),
  ExecutionRoleArn: z.string().optional(),
  Volumes: z.array(z.strictObject({ Name: z.string() })).default([]),
});

/** The assets manifest CDK writes beside a template (`<stack>.assets.json`): where `cdk deploy` publishes each file asset. */
const assetsManifest = z.looseObject({
  files: z.record(
    z.string(),
    z.looseObject({
      source: z.looseObject({ path: z.string(), packaging: z.enum(['file', 'zip']).default('file') }),
      destinations: z.record(z.string(), z.looseObject({ bucketName: z.string(), objectKey: z.string() })),
    }),
  ),
});

/** The logical ids of the task roles of the template's task definitions: the access keys their containers sign with. */
export const taskRoleIds = (template: CfnTemplate): string[] =>
  resourcesOfType(template, 'AWS::ECS::TaskDefinition').flatMap(([, resource]) => {
    const role = z.looseObject({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) }).safeParse(resource.Properties?.TaskRoleArn);
    return role.success ? [role.data['Fn::GetAtt'][0]] : [];
  });

/** A folder as CDK zips a directory asset: its files, by their paths inside it. */
const zipFolder = (folder: string): Uint8Array => {
  const files: Record<string, Uint8Array> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(folder, path)] = readFileSync(path);
    }
  };
  walk(folder);
  return zipSync(files);
};

/** An id as EC2 writes them (`subnet-0123…`), stable for a logical id of a deployment. */
const ec2Id = (kind: string, prefix: string, logicalId: string) => `${kind}-${createHash('sha256').update(`${prefix}/${logicalId}`).digest('hex').slice(0, 17)}`;

/**
 * The functions that serve the template's custom resources (their ServiceToken): CloudFormation invokes them while it
 * deploys (the CDK's bucket deployment copies the web view's files into the site's bucket), and nothing of ours runs
 * in them, so they are not deployed here.
 */
export const customResourceProviders = (template: CfnTemplate): Set<string> =>
  new Set(
    Object.values(template.Resources)
      .filter((resource) => resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource')
      .flatMap((resource) => {
        const token = z.looseObject({ ServiceToken: z.looseObject({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) }) }).safeParse(resource.Properties);
        return token.success ? [token.data.ServiceToken['Fn::GetAtt'][0]] : [];
      }),
  );

const permissionProps = z.looseObject({ Action: z.string(), FunctionName: z.string(), Principal: z.string(), SourceArn: z.string().optional() });

interface Names {
  tables: Map<string, string>;
  queues: Map<string, DeployedQueue>;
  buckets: Map<string, string>;
}

/** Local names and ARNs for every reference a template makes. */
const localResolver = (template: CfnTemplate, prefix: string, names: Names): IntrinsicResolver => {
  const typeOf = (logicalId: string) => {
    const type = template.Resources[logicalId]?.Type;
    if (!type) throw new Error(`the template references ${logicalId}, which it does not define`);
    return type;
  };
  const nameOf = (logicalId: string) => `${prefix}-${logicalId}`;
  const pseudo: Record<string, string> = {
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': prefix,
  };
  const table = (logicalId: string) => {
    const name = names.tables.get(logicalId);
    if (!name) throw new Error(`table ${logicalId} is referenced before it exists`);
    return name;
  };
  const queue = (logicalId: string) => {
    const found = names.queues.get(logicalId);
    if (!found) throw new Error(`queue ${logicalId} is referenced before it exists`);
    return found;
  };
  const bucket = (logicalId: string) => {
    const name = names.buckets.get(logicalId);
    if (!name) throw new Error(`bucket ${logicalId} is referenced before it exists`);
    return name;
  };
  const logGroup = (logicalId: string) => `/aws/lambda/${nameOf(logicalId)}`;
  // Its Family as written (CDK writes a literal), revision 1: its first registration.
  const taskDefinitionArn = (logicalId: string) => {
    const family = template.Resources[logicalId]?.Properties?.Family;
    return `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${typeof family === 'string' ? family : nameOf(logicalId)}:1`;
  };
  return {
    ref(logicalId) {
      if (logicalId in pseudo) return pseudo[logicalId] ?? '';
      switch (typeOf(logicalId)) {
        case 'AWS::DynamoDB::Table':
          return table(logicalId);
        case 'AWS::SQS::Queue':
          return queue(logicalId).url;
        case 'AWS::S3::Bucket':
          return bucket(logicalId);
        case 'AWS::Logs::LogGroup':
          return logGroup(logicalId);
        case 'AWS::ECS::TaskDefinition':
          return taskDefinitionArn(logicalId);
        case 'AWS::EC2::VPC':
          return ec2Id('vpc', prefix, logicalId);
        case 'AWS::EC2::Subnet':
          return ec2Id('subnet', prefix, logicalId);
        case 'AWS::EC2::SecurityGroup':
          return ec2Id('sg', prefix, logicalId);
        default:
          return nameOf(logicalId);
      }
    },
    getAtt(logicalId, attribute) {
      const key = `${typeOf(logicalId)}.${attribute}`;
      switch (key) {
        case 'AWS::DynamoDB::Table.Arn':
          return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table(logicalId)}`;
        case 'AWS::SQS::Queue.Arn':
          return queue(logicalId).arn;
        case 'AWS::SQS::Queue.QueueName':
          return queue(logicalId).name;
        case 'AWS::SQS::Queue.QueueUrl':
          return queue(logicalId).url;
        case 'AWS::S3::Bucket.Arn':
          return `arn:aws:s3:::${bucket(logicalId)}`;
        case 'AWS::Logs::LogGroup.Arn':
          return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logGroup(logicalId)}:*`;
        case 'AWS::Lambda::Function.Arn':
          return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${nameOf(logicalId)}`;
        case 'AWS::IAM::Role.Arn':
          return `arn:aws:iam::${ACCOUNT}:role/${nameOf(logicalId)}`;
        case 'AWS::Events::Rule.Arn':
          return `arn:aws:events:${REGION}:${ACCOUNT}:rule/${nameOf(logicalId)}`;
        case 'AWS::ECS::Cluster.Arn':
          return `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${nameOf(logicalId)}`;
        case 'AWS::ECS::TaskDefinition.TaskDefinitionArn':
          return taskDefinitionArn(logicalId);
        case 'AWS::EC2::SecurityGroup.GroupId':
          return ec2Id('sg', prefix, logicalId);
        default:
          throw new Error(`Fn::GetAtt ${key} is not emulated`);
      }
    },
  };
};

/** Stops every task started and the ECS stand-in. */
const stopContainers = async (containers: Containers | undefined): Promise<void> => {
  if (!containers) return;
  await containers.ecs.stop();
  await Promise.all(containers.started.map(({ task }) => task.stop()));
  rmSync(containers.binDir, { recursive: true, force: true });
};

type Invoke = Awaited<ReturnType<typeof servePythonFunctions>>;

/** The container side of a deployment: the ECS stand-in, the tasks it started, the `aws` its containers run. */
interface Containers {
  readonly ecs: EcsStandIn;
  readonly definitions: readonly DeployedTaskDefinition[];
  readonly started: StartedTask[];
  readonly binDir: string;
}

/**
 * The images whose containers run here as processes of this machine: what each stands in with. A container runs with
 * this machine's file system, so an image is only stood in for when its commands write nothing outside their volumes.
 * The Python runners' image is not (it unpacks Lambda's Python 3.13 x86_64 packages into its own /opt, serves on a
 * fixed loopback port, and drops ECS's credentials variable, which these containers do not use).
 */
const STOOD_IN_IMAGES: Readonly<Record<string, string>> = {
  [FETCH_IMAGE]: "the AWS CLI's `aws s3 cp`: test/helpers/aws-cli-stand-in.ts, first on PATH",
  [RUN_IMAGE]: "Node.js: this machine's node",
};

/** Refuses, before anything is deployed, a task definition with a container whose image is not stood in for. */
const refuseUnknownImages = (template: CfnTemplate): void => {
  for (const [logicalId, resource] of resourcesOfType(template, 'AWS::ECS::TaskDefinition')) {
    const containers = z.array(z.looseObject({ Name: z.string(), Image: z.string() })).parse(resource.Properties?.ContainerDefinitions);
    const unknown = containers.find((container) => !(container.Image in STOOD_IN_IMAGES));
    if (unknown) throw new Error(`${logicalId}: container ${unknown.Name}'s image ${unknown.Image} is not run by this local deployment (it stands in for ${Object.keys(STOOD_IN_IMAGES).join(' and ')} only)`);
  }
};

/** The task definitions as ECS registers them, with the logical ids of their roles. */
const taskDefinitionsOf = (template: CfnTemplate, resolver: IntrinsicResolver): DeployedTaskDefinition[] =>
  resourcesOfType(template, 'AWS::ECS::TaskDefinition').map(([logicalId, resource]) => {
    const definition = props(resource, taskDefinitionProps, resolver);
    const roleId = (value: unknown) => z.strictObject({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) }).parse(value)['Fn::GetAtt'][0];
    const { TaskRoleArn, ExecutionRoleArn } = resource.Properties ?? {};
    return {
      logicalId,
      arn: resolver.ref(logicalId),
      family: definition.Family,
      revision: 1,
      requiresFargate: true,
      containerNames: definition.ContainerDefinitions.map((container) => container.Name),
      ...(TaskRoleArn === undefined ? {} : { taskRoleId: roleId(TaskRoleArn), taskRoleArn: definition.TaskRoleArn }),
      ...(ExecutionRoleArn === undefined ? {} : { executionRoleId: roleId(ExecutionRoleArn), executionRoleArn: definition.ExecutionRoleArn }),
      volumes: definition.Volumes.map((volume) => volume.Name),
      containers: definition.ContainerDefinitions.map((container) => ({
        name: container.Name,
        essential: container.Essential,
        argv: [...(container.EntryPoint ?? []), ...(container.Command ?? [])],
        environment: Object.fromEntries((container.Environment ?? []).map(({ Name, Value }) => [Name, Value])),
        mountPoints: (container.MountPoints ?? []).map((mount) => ({ sourceVolume: mount.SourceVolume, containerPath: mount.ContainerPath })),
        dependsOn: (container.DependsOn ?? []).map((dependency) => ({ containerName: dependency.ContainerName, condition: dependency.Condition satisfies DependencyCondition })),
        ...(container.HealthCheck
          ? { healthCheck: { command: container.HealthCheck.Command, intervalSeconds: container.HealthCheck.Interval, timeoutSeconds: container.HealthCheck.Timeout, retries: container.HealthCheck.Retries } }
          : {}),
        stopTimeoutSeconds: container.StopTimeout,
      })),
    };
  });

/**
 * Uploads what the task definitions copy from S3 (`s3://bucket/key` in their commands) as `cdk deploy` publishes it:
 * each asset from the cloud assembly (a folder zipped), to the bucket and key its assets manifest names.
 */
const publishTaskAssets = async (assemblyDir: string, definitions: readonly DeployedTaskDefinition[], s3: S3Client): Promise<void> => {
  const wanted = new Set(definitions.flatMap((definition) => definition.containers.flatMap((container) => container.argv.flatMap((arg) => arg.match(/s3:\/\/[^\s"']+/g) ?? []))));
  const pseudo = (text: string) => text.replaceAll('${AWS::AccountId}', ACCOUNT).replaceAll('${AWS::Region}', REGION).replaceAll('${AWS::Partition}', 'aws');
  const buckets = new Set<string>();
  for (const manifest of readdirSync(assemblyDir).filter((file) => file.endsWith('.assets.json'))) {
    const { files } = assetsManifest.parse(JSON.parse(readFileSync(join(assemblyDir, manifest), 'utf8')));
    for (const asset of Object.values(files)) {
      for (const destination of Object.values(asset.destinations)) {
        const [Bucket, Key] = [pseudo(destination.bucketName), pseudo(destination.objectKey)];
        const url = `s3://${Bucket}/${Key}`;
        if (!wanted.delete(url)) continue;
        if (!buckets.has(Bucket)) {
          // The bootstrap's asset bucket, shared by every deployment in the account.
          await s3.send(new CreateBucketCommand({ Bucket })).catch((error: unknown) => {
            if (!(error instanceof BucketAlreadyOwnedByYou) && !(error instanceof Error && error.name === 'BucketAlreadyExists')) throw error;
          });
          buckets.add(Bucket);
        }
        const path = join(assemblyDir, asset.source.path);
        await s3.send(new PutObjectCommand({ Bucket, Key, Body: asset.source.packaging === 'zip' ? zipFolder(path) : readFileSync(path) }));
      }
    }
  }
  if (wanted.size > 0) throw new Error(`the task definitions copy ${[...wanted].join(', ')}, which no assets manifest in ${assemblyDir} publishes`);
};

/** The `aws` the containers find on their PATH: the CLI stand-in, bundled once, as the CLI is installed in its image. */
const installAwsCli = (): string => {
  const binDir = mkdtempSync(join(tmpdir(), 'ecs-bin-'));
  buildSync({
    entryPoints: [new URL('./aws-cli-stand-in.ts', import.meta.url).pathname],
    outfile: join(binDir, 'aws-cli.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  writeFileSync(join(binDir, 'aws'), `#!/bin/sh\nexec "${process.execPath}" "${join(binDir, 'aws-cli.mjs')}" "$@"\n`);
  chmodSync(join(binDir, 'aws'), 0o755);
  return binDir;
};

export class LocalDeployment {
  private readonly sources: SqsEventSource[] = [];
  private readonly clients: SQSClient[] = [];
  /** Rules an operator enabled or disabled since the deployment (`aws events enable-rule`), by logical id. */
  private readonly ruleStates = new Map<string, boolean>();
  /** Scheduled invocations still running, by rule and target. */
  private readonly scheduledInFlight = new Map<string, Promise<void>>();

  private constructor(
    readonly template: CfnTemplate,
    readonly resolver: IntrinsicResolver,
    readonly names: Names,
    readonly functions: ReadonlyMap<string, DeployedFunction>,
    private readonly options: LocalDeploymentOptions,
    private readonly invoke?: Invoke,
    private readonly containers?: Containers,
  ) {}

  /** ECS's RunTask for the container runs (the upstream of the functions' `ecs` endpoint); undefined without task definitions. */
  get ecsEndpoint(): string | undefined {
    return this.containers?.ecs.endpoint;
  }

  /** The template's task definitions, as registered with ECS. */
  get taskDefinitions(): readonly DeployedTaskDefinition[] {
    return this.containers?.definitions ?? [];
  }

  /** Every task RunTask started, in order. */
  get tasks(): readonly StartedTask[] {
    return this.containers?.started ?? [];
  }

  /** What IAM resolves a RunTask's names to: the cluster's ARN, the task definition's ARN and roles. */
  readonly ecsArns = {
    clusterArn: (nameOrArn: string): string =>
      resourcesOfType(this.template, 'AWS::ECS::Cluster')
        .map(([logicalId]) => ({ name: this.resolver.ref(logicalId), arn: this.resolver.getAtt(logicalId, 'Arn') }))
        .find((cluster) => cluster.name === nameOrArn || cluster.arn === nameOrArn)?.arn ?? `unknown cluster ${nameOrArn}`,
    taskDefinition: (nameOrArn: string) => {
      const found = this.taskDefinitions.find((definition) => [definition.arn, definition.family, `${definition.family}:${definition.revision}`].includes(nameOrArn));
      return {
        arn: found?.arn ?? `unknown task definition ${nameOrArn}`,
        ...(found?.taskRoleArn ? { taskRoleArn: found.taskRoleArn } : {}),
        ...(found?.executionRoleArn ? { executionRoleArn: found.executionRoleArn } : {}),
      };
    },
  };

  /** Lambda's Invoke for the Python functions (the upstream of the functions' `lambda` endpoint); undefined without any. */
  get lambdaEndpoint(): string | undefined {
    return this.invoke?.endpoint;
  }

  static async deploy(options: LocalDeploymentOptions): Promise<LocalDeployment> {
    const { template, prefix } = options;
    refuseUnknownImages(template);
    const names: Names = { tables: new Map(), queues: new Map(), buckets: new Map() };
    const resolver = localResolver(template, prefix, names);
    const dynamo = new DynamoDBClient(localClientConfig(options.direct.dynamodb));
    const sqs = new SQSClient(localClientConfig(options.direct.sqs));
    const s3 = options.direct.s3 ? new S3Client({ ...localClientConfig(options.direct.s3), forcePathStyle: true }) : undefined;
    let invoke: Invoke | undefined;
    let containers: Containers | undefined;
    try {
      for (const [logicalId, resource] of resourcesOfType(template, 'AWS::S3::Bucket')) {
        props(resource, bucketProps, resolver);
        if (!s3) throw new Error(`the template has bucket ${logicalId}, but no S3 endpoint was given`);
        // Bucket names are lower case, at most 63 characters.
        const Bucket = `${prefix}-${logicalId}`.toLowerCase().slice(0, 63);
        await s3.send(new CreateBucketCommand({ Bucket }));
        names.buckets.set(logicalId, Bucket);
      }

      for (const [logicalId, resource] of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
        const table = props(resource, tableProps, resolver);
        const TableName = `${prefix}-${logicalId}`;
        await dynamo.send(
          new CreateTableCommand({
            TableName,
            KeySchema: table.KeySchema,
            AttributeDefinitions: table.AttributeDefinitions,
            BillingMode: table.BillingMode,
            ...(table.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: table.GlobalSecondaryIndexes } : {}),
          }),
        );
        if (table.TimeToLiveSpecification) await dynamo.send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: table.TimeToLiveSpecification }));
        names.tables.set(logicalId, TableName);
      }

      // Dead-letter queues first: the others' redrive policies name them.
      // A queue's redrive target first (a runner's queue → its dead-letter queue → the dead-letter failures queue).
      const queues = resourcesOfType(template, 'AWS::SQS::Queue');
      const targetOf = (resource: CfnResource) => JSON.stringify(resource.Properties?.RedrivePolicy ?? null).match(/"Fn::GetAtt":\["([^"]+)"/)?.[1];
      const depth = (resource: CfnResource): number => {
        const target = targetOf(resource);
        const next = target === undefined ? undefined : queues.find(([id]) => id === target)?.[1];
        return next ? 1 + depth(next) : 0;
      };
      const ordered = [...queues].sort(([, a], [, b]) => depth(a) - depth(b));
      for (const [logicalId, resource] of ordered) {
        const queue = props(resource, queueProps, resolver);
        const name = `${prefix}-${logicalId}`;
        const created = await sqs.send(
          new CreateQueueCommand({
            QueueName: name,
            Attributes: {
              VisibilityTimeout: String(queue.VisibilityTimeout),
              MessageRetentionPeriod: String(queue.MessageRetentionPeriod),
              ...(queue.RedrivePolicy ? { RedrivePolicy: JSON.stringify(queue.RedrivePolicy) } : {}),
            },
          }),
        );
        // A queue URL names the endpoint that serves it (the SDK sends there): the functions' endpoint.
        const url = new URL(new URL(created.QueueUrl ?? '').pathname, options.forFunctions.sqs).href;
        const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: created.QueueUrl, AttributeNames: ['QueueArn'] }));
        names.queues.set(logicalId, { name, url, arn: attributes.Attributes?.QueueArn ?? '' });
      }

      const definitions = taskDefinitionsOf(template, resolver);
      if (definitions.length > 0) {
        if (!s3) throw new Error('the template has task definitions, whose code comes from S3, but no S3 endpoint was given');
        await publishTaskAssets(options.assemblyDir, definitions, s3);
        const roleIdByArn = new Map(resourcesOfType(template, 'AWS::IAM::Role').map(([logicalId]) => [resolver.getAtt(logicalId, 'Arn'), logicalId]));
        const binDir = installAwsCli();
        const started: StartedTask[] = [];
        const ecs = await EcsStandIn.start({
          region: REGION,
          account: ACCOUNT,
          clusters: resourcesOfType(template, 'AWS::ECS::Cluster').map(([logicalId]) => ({ name: resolver.ref(logicalId), arn: resolver.getAtt(logicalId, 'Arn') })),
          taskDefinitions: definitions,
          subnets: resourcesOfType(template, 'AWS::EC2::Subnet').map(([logicalId]) => resolver.ref(logicalId)),
          securityGroups: resourcesOfType(template, 'AWS::EC2::SecurityGroup').map(([logicalId]) => resolver.getAtt(logicalId, 'GroupId')),
          launch: (request) => {
            const definition = definitions.find((candidate) => candidate.arn === request.definition.arn);
            if (!definition) throw new Error(`RunTask accepted ${request.definition.arn}, which the deployment did not register`);
            const taskRoleArn = request.taskRoleArn ?? definition.taskRoleArn;
            const accessKeyId = taskRoleArn === undefined ? undefined : roleIdByArn.get(taskRoleArn);
            // What ECS and the image give every container (a task without a task role gets no credentials), then the
            // template's environment, then RunTask's overrides.
            const base: Record<string, string> = {
              PATH: [binDir, dirname(process.execPath), process.env.PATH ?? '/usr/bin:/bin'].join(':'),
              HOME: tmpdir(),
              AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE',
              AWS_REGION: REGION,
              AWS_DEFAULT_REGION: REGION,
              ...(accessKeyId ? { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: 'local' } : {}),
              AWS_ENDPOINT_URL_DYNAMODB: options.forFunctions.dynamodb,
              AWS_ENDPOINT_URL_SQS: options.forFunctions.sqs,
              ...(options.forFunctions.s3 ? { AWS_ENDPOINT_URL_S3: options.forFunctions.s3 } : {}),
              // The image's Node is 22, which the bundled SDK supports without a notice; this machine's may be older.
              AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            };
            const specs = definition.containers.map((container) => ({ ...container, environment: { ...base, ...container.environment, ...request.environmentOverrides.get(container.name) } }));
            started.push({ request, definition, ...(accessKeyId ? { accessKeyId } : {}), task: new LocalTask(request.taskArn, specs, definition.volumes) });
          },
        });
        containers = { ecs, definitions, started, binDir };
      }

      const providers = customResourceProviders(template);
      const declared = resourcesOfType(template, 'AWS::Lambda::Function').filter(([logicalId]) => !providers.has(logicalId)).map(([logicalId, resource]) => {
        const fn = props(resource, functionProps, resolver);
        // The code CloudFormation would fetch: the S3 key names the asset's hash, staged as asset.<hash>.
        const assetDir = join(options.assemblyDir, `asset.${fn.Code.S3Key.replace(/\.zip$/, '')}`);
        // Lambda unpacks the asset at /var/task; here it stays where synth put it.
        const variables = Object.fromEntries(
          Object.entries(fn.Environment?.Variables ?? {}).map(([name, value]) => [name, value.startsWith(LAMBDA_TASK_ROOT) ? assetDir + value.slice(LAMBDA_TASK_ROOT.length) : value]),
        );
        const name = resolver.ref(logicalId);
        const environment: Record<string, string> = {
          ...variables,
          AWS_LAMBDA_FUNCTION_NAME: name,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.MemorySize),
          AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
          LAMBDA_TASK_ROOT: assetDir,
          AWS_REGION: REGION,
          AWS_DEFAULT_REGION: REGION,
          AWS_ACCESS_KEY_ID: logicalId,
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_ENDPOINT_URL_DYNAMODB: options.forFunctions.dynamodb,
          AWS_ENDPOINT_URL_SQS: options.forFunctions.sqs,
          ...(options.forFunctions.s3 ? { AWS_ENDPOINT_URL_S3: options.forFunctions.s3 } : {}),
          ...(options.forFunctions.secretsManager ? { AWS_ENDPOINT_URL_SECRETS_MANAGER: options.forFunctions.secretsManager } : {}),
          ...(options.forFunctions.lambda ? { AWS_ENDPOINT_URL_LAMBDA: options.forFunctions.lambda } : {}),
          ...(options.forFunctions.ecs ? { AWS_ENDPOINT_URL_ECS: options.forFunctions.ecs } : {}),
        };
        const deployed = { logicalId, name, arn: resolver.getAtt(logicalId, 'Arn'), accessKeyId: logicalId, serviceName: variables.POWERTOOLS_SERVICE_NAME ?? '', timeoutMs: fn.Timeout * 1000 };
        return { fn, assetDir, environment, deployed };
      });

      // The Python functions answer Lambda's Invoke, in Python processes run from their assets, as Lambda's Python runtime does.
      // Their layer (the lock's packages built for Lambda's Python 3.13) cannot load in this machine's Python: .venv's
      // interpreter, with the same lock's packages built for this machine, stands in for it.
      const python = declared.filter(({ fn }) => fn.Runtime.startsWith('python'));
      const printed = new Map(python.map(({ deployed }) => [deployed.logicalId, [] as string[]]));
      const specs = python.map(
        ({ fn, assetDir, environment, deployed }): PythonFunctionSpec => ({
          name: deployed.name,
          label: deployed.logicalId,
          environment: { ...environment, PATH: process.env.PATH ?? '/usr/bin:/bin', PYTHONPATH: assetDir, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
          cwd: assetDir,
          timeoutSeconds: fn.Timeout,
          maxConcurrency: 10,
        }),
      );
      invoke = specs.length > 0
        ? await servePythonFunctions(specs, (line) => {
            const [, label = '', text = line] = /^\[([^\]]+)\] (.*)$/.exec(line) ?? [];
            printed.get(label)?.push(text);
          })
        : undefined;
      const invokeUrl = (name: string) => `${invoke?.endpoint ?? ''}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`;

      const started = await Promise.allSettled(
        declared.map(async ({ fn, assetDir, environment, deployed }): Promise<DeployedFunction> => {
          if (fn.Runtime.startsWith('python')) {
            const host: Host = {
              output: printed.get(deployed.logicalId) ?? [],
              async invoke(event) {
                const response = await fetch(invokeUrl(deployed.name), { method: 'POST', body: JSON.stringify(event) });
                const payload: unknown = await response.json();
                if (response.headers.get('x-amz-function-error')) throw new Error(`${deployed.name}: ${JSON.stringify(payload)}`);
                return payload;
              },
              stop: () => Promise.resolve(),
            };
            return { ...deployed, environment, runtime: 'python', host };
          }
          const modulePath = ['index.mjs', 'index.js'].map((file) => join(assetDir, file)).find((file) => existsSync(file));
          if (!modulePath) throw new Error(`${deployed.logicalId}: the asset ${assetDir} has no index.mjs or index.js`);
          const nodeEnvironment = {
            ...environment,
            // Lambda runs Node 22, which the bundled SDK supports without a notice; these processes run this machine's Node.
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          };
          const host = await FunctionHost.start({ modulePath, functionName: deployed.name, memoryMb: fn.MemorySize, environment: nodeEnvironment });
          return { ...deployed, environment: nodeEnvironment, runtime: 'nodejs', host };
        }),
      );
      const functions = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) {
        await Promise.all(functions.map((fn) => fn.host.stop()));
        await invoke?.stop();
        await stopContainers(containers);
        throw failed.reason;
      }
      return new LocalDeployment(template, resolver, names, new Map(functions.map((fn) => [fn.logicalId, fn])), options, invoke, containers);
    } finally {
      dynamo.destroy();
      sqs.destroy();
      s3?.destroy();
    }
  }

  bucketName(logicalId: string): string {
    const name = this.names.buckets.get(logicalId);
    if (!name) throw new Error(`the template has no bucket ${logicalId}`);
    return name;
  }

  /** Enables or disables a schedule, as an operator does with `aws events enable-rule` / `disable-rule`. */
  setScheduleEnabled(ruleLogicalId: string, enabled: boolean): void {
    if (this.template.Resources[ruleLogicalId]?.Type !== 'AWS::Events::Rule') throw new Error(`the template has no rule ${ruleLogicalId}`);
    this.ruleStates.set(ruleLogicalId, enabled);
  }

  tableName(): string {
    const [name] = this.names.tables.values();
    if (!name) throw new Error('the template has no table');
    return name;
  }

  queueByArn(arn: string): DeployedQueue | undefined {
    return [...this.names.queues.values()].find((queue) => queue.arn === arn);
  }

  queueByUrl(url: string): DeployedQueue | undefined {
    return [...this.names.queues.values()].find((queue) => queue.url === url);
  }

  functionNamed(nameOrArn: string): DeployedFunction {
    const found = [...this.functions.values()].find((fn) => fn.name === nameOrArn || fn.arn === nameOrArn);
    if (!found) throw new Error(`no function ${nameOrArn} in the template`);
    return found;
  }

  /** Starts every event source mapping, polling with its function's own credentials. */
  async startEventSources(): Promise<void> {
    for (const [, resource] of resourcesOfType(this.template, 'AWS::Lambda::EventSourceMapping')) {
      const mapping = props(resource, eventSourceProps, this.resolver);
      const fn = this.functionNamed(mapping.FunctionName);
      const queue = this.queueByArn(mapping.EventSourceArn);
      if (!queue) throw new Error(`an event source mapping reads ${mapping.EventSourceArn}, which is no queue of the template`);
      const sqs = new SQSClient({
        ...localClientConfig(this.options.forFunctions.sqs),
        credentials: { accessKeyId: fn.accessKeyId, secretAccessKey: 'local' },
      });
      this.clients.push(sqs);
      // Lambda reads the queue's attributes when a mapping is created, with the function's role.
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['All'] }));
      const source = new SqsEventSource({
        sqs,
        queueUrl: queue.url,
        queueArn: queue.arn,
        functionName: fn.name,
        handler: (event: SQSEvent, context) => fn.host.invoke(event, context.getRemainingTimeInMillis()) as Promise<SQSBatchResponse>,
        batchSize: mapping.BatchSize,
        maxConcurrency: mapping.ScalingConfig.MaximumConcurrency,
        timeoutMs: fn.timeoutMs,
      });
      source.start();
      this.sources.push(source);
    }
  }

  /**
   * Fires every enabled schedule once (as the template or an operator left it): its target, invoked with
   * the rule's input, as EventBridge does. A target the template gives EventBridge no permission to invoke
   * is refused, as it would be on AWS.
   */
  /** Resolves once every scheduled invocation started so far (of the rule with this logical id, if given) has returned. */
  async schedulesSettled(rule?: string): Promise<void> {
    await Promise.all([...this.scheduledInFlight].filter(([key]) => rule === undefined || key.startsWith(`${rule} `)).map(([, invocation]) => invocation));
  }

  async fireSchedules(): Promise<unknown[]> {
    const permissions = resourcesOfType(this.template, 'AWS::Lambda::Permission').map(([, resource]) => props(resource, permissionProps, this.resolver));
    const rules = resourcesOfType(this.template, 'AWS::Events::Rule').map(([logicalId, resource]) => {
      const rule = props(resource, ruleProps, this.resolver);
      return { logicalId, arn: this.resolver.getAtt(logicalId, 'Arn'), rule, enabled: this.ruleStates.get(logicalId) ?? rule.State === 'ENABLED' };
    });
    return Promise.all(
      rules
        .filter(({ enabled }) => enabled)
        .flatMap(({ logicalId, arn, rule }) =>
          rule.Targets.flatMap((target) => {
            // A target still running from an earlier firing is not invoked again (its runner's lock would skip
            // the run), so that a long run (the recount waits out in-flight counter updates) holds up no other.
            const key = `${logicalId} ${target.Arn}`;
            if (this.scheduledInFlight.has(key)) return [];
            const fn = this.functionNamed(target.Arn);
            const allowed = permissions.some(
              (permission) =>
                permission.Action === 'lambda:InvokeFunction' &&
                permission.Principal === 'events.amazonaws.com' &&
                permission.SourceArn === arn &&
                (permission.FunctionName === fn.arn || permission.FunctionName === fn.name),
            );
            if (!allowed) throw new Error(`the template does not let EventBridge rule ${arn} invoke ${fn.name}`);
            const invocation = fn.host.invoke(JSON.parse(target.Input), fn.timeoutMs);
            this.scheduledInFlight.set(key, invocation.then(() => undefined, () => undefined).finally(() => this.scheduledInFlight.delete(key)));
            return [invocation];
          }),
        ),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.sources.map((source) => source.stop()));
    this.clients.forEach((client) => client.destroy());
    await Promise.all([...this.functions.values()].map((fn) => fn.host.stop()));
    await this.invoke?.stop();
    await stopContainers(this.containers);
  }
}
