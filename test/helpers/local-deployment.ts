/**
 * A synthesized template deployed onto DynamoDB Local, the SQS emulator and the S3 emulator, as
 * CloudFormation would deploy it on AWS: the table, the queues and the buckets with the template's
 * properties, every function's bundled asset in its own process with the template's environment
 * (references resolved to the local names and ARNs) and its own credentials, every event source mapping
 * polling with the function's credentials, and every schedule ready to fire its target with its input,
 * provided the template lets EventBridge invoke that target. Secrets are not the template's: they exist
 * beforehand, as in AWS (here in the Secrets Manager stand-in the functions are pointed at).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { LAMBDA_TASK_ROOT } from '../../lib/constructs/handler-function';
import { PYTHON_HANDLER } from '../../lib/constructs/python-runner-function';
import { type PythonFunctionSpec, servePythonFunctions } from '../../lib/local/python-functions';
import { SqsEventSource } from '../../lib/local/event-source';
import { localAwsEnv, localClientConfig } from '../../lib/local/services';
import { FunctionHost } from './function-host';
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
        default:
          throw new Error(`Fn::GetAtt ${key} is not emulated`);
      }
    },
  };
};

type Invoke = Awaited<ReturnType<typeof servePythonFunctions>>;

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
  ) {}

  /** Lambda's Invoke for the Python functions (the upstream of the functions' `lambda` endpoint); undefined without any. */
  get lambdaEndpoint(): string | undefined {
    return this.invoke?.endpoint;
  }

  static async deploy(options: LocalDeploymentOptions): Promise<LocalDeployment> {
    const { template, prefix } = options;
    const names: Names = { tables: new Map(), queues: new Map(), buckets: new Map() };
    const resolver = localResolver(template, prefix, names);
    const dynamo = new DynamoDBClient(localClientConfig(options.direct.dynamodb));
    const sqs = new SQSClient(localClientConfig(options.direct.sqs));
    const s3 = options.direct.s3 ? new S3Client({ ...localClientConfig(options.direct.s3), forcePathStyle: true }) : undefined;
    let invoke: Invoke | undefined;
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
        throw failed.reason;
      }
      return new LocalDeployment(template, resolver, names, new Map(functions.map((fn) => [fn.logicalId, fn])), options, invoke);
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
  }
}
