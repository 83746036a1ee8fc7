/**
 * One of the project's Lambda handlers (functions/*.ts), bundled here with the local esbuild, with the
 * defaults every function of the stack shares: Node 22 on ARM64, source maps, its own log group with
 * retention, the fixtures copied into the asset, and a role that holds only what is granted through it.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, Lazy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { isSecretName, looksLikeArnSuffix, settingBounds } from '../domain/limits';
import { ENV } from '../settings/config';
import { REGISTRY_IMPORT } from '../settings/registry';
import { STATUS_FIXTURE, TASK_FIXTURE } from '../fixtures/load-catalog';
import type { StoreUse } from '../engine/store-use';
import { type ItemKind, type ItemScope, type TableAccess, leadingKeys, tableAccessOf } from '../store/dynamodb';
import { tableSchema } from '../store/dynamodb/table';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where Lambda unpacks a function's asset. */
export const LAMBDA_TASK_ROOT = '/var/task';
/** The fixtures' folder inside every asset; FIXTURES_DIR points there. */
export const BUNDLED_FIXTURES = 'fixtures';
export const RUNTIME = Runtime.NODEJS_22_X;

/** The construct context under which a stack names another registry module for its code (TaskRunnersStackProps.registryModule). */
export const REGISTRY_MODULE_CONTEXT = 'blast:registryModule';

/**
 * The registry module the code bundled under `scope` runs instead of runners/registry.ts, as an esbuild alias of
 * REGISTRY_IMPORT (a path, resolved from the project root); none when the stack names none.
 */
export const registryAlias = (scope: Construct): Record<string, string> => {
  const module: unknown = scope.node.tryGetContext(REGISTRY_MODULE_CONTEXT);
  return typeof module === 'string' ? { [REGISTRY_IMPORT]: resolve(PROJECT_ROOT, module) } : {};
};

/** The DynamoDB actions the handlers' code performs (TransactWriteItems is authorised per contained Put). */
export type TableAction = TableAccess['action'];
/** Every key a DynamoDB request names (several in a batch) must match one of the grant's patterns. */
export const LEADING_KEYS_CONDITION = 'ForAllValues:StringLike';
/** The SQS actions the handlers and their event source mappings perform (batch calls are authorised as these). */
export type QueueAction = 'SendMessage' | 'ReceiveMessage' | 'DeleteMessage' | 'ChangeMessageVisibility' | 'GetQueueAttributes';
/** What a Lambda event source mapping needs of its queue: poll, delete what succeeded, read the queue's settings. */
export const CONSUME_ACTIONS: readonly QueueAction[] = ['ReceiveMessage', 'DeleteMessage', 'GetQueueAttributes'];

/**
 * A function's own log group (with its retention) and its own role, allowed to write to that log group and
 * holding only what is granted through it: not the default role, whose managed policy may write to any log group.
 */
export const ownLogsAndRole = (scope: Construct, description: string, retention: RetentionDays = RetentionDays.ONE_MONTH): { logGroup: LogGroup; role: Role } => {
  const logGroup = new LogGroup(scope, 'Logs', { retention });
  const role = new Role(scope, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: `${description} (${scope.node.path})` });
  logGroup.grantWrite(role);
  return { logGroup, role };
};

/**
 * Allows `role` what the adapter declares for the store methods `use` names, each action only on the items it is
 * declared for (HandlerFunction.grantStore; a container run's task role gets its grant the same way).
 */
export const grantStoreTo = (role: Role, table: ITable, use: StoreUse, scope: ItemScope = {}): void => {
  const byItem = new Map<ItemKind, Set<TableAction>>();
  for (const { item, action } of tableAccessOf(use)) byItem.set(item, (byItem.get(item) ?? new Set()).add(action));
  for (const [item, actions] of byItem) {
    const resource = item === 'status' ? `${table.tableArn}/index/${tableSchema.statusIndex.name}` : table.tableArn;
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [...actions].sort().map((action) => `dynamodb:${action}`),
        resources: [resource],
        conditions: { [LEADING_KEYS_CONDITION]: { 'dynamodb:LeadingKeys': Lazy.list({ produce: () => leadingKeys(item, scope) }) } },
      }),
    );
  }
};

export interface HandlerFunctionProps {
  /** The entry file, relative to the project root, e.g. `functions/transient-worker.ts`. */
  readonly entry: string;
  /** The handler's Powertools service name (lib/engine/telemetry.ts ServiceName): the `service` of its logs and metrics. */
  readonly serviceName: string;
  readonly description: string;
  /** Memory in MB and timeout in seconds: a runner's own, or the dispatcher's or dead-letter handler's settings. */
  readonly settings: { readonly memorySize: number; readonly timeoutSeconds: number };
  /** The task table: every handler works on it, and finds it in TABLE_NAME. */
  readonly table: ITable;
  /** The fixture files' folder on this machine, copied into the asset. */
  readonly fixturesDir: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays | undefined;
  /** Further environment variables. */
  readonly environment?: Readonly<Record<string, string>>;
}

export class HandlerFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    const { memorySize, timeoutSeconds } = props.settings;
    const [minTimeout, maxTimeout] = settingBounds.timeoutSeconds;
    const [minMemory, maxMemory] = settingBounds.memorySize;
    if (timeoutSeconds < minTimeout || timeoutSeconds > maxTimeout) {
      throw new Error(`${this.node.path}: timeout ${timeoutSeconds} s is outside Lambda's ${minTimeout}–${maxTimeout} s`);
    }
    if (memorySize < minMemory || memorySize > maxMemory) {
      throw new Error(`${this.node.path}: memorySize ${memorySize} MB is outside Lambda's ${minMemory}–${maxMemory} MB`);
    }

    ({ logGroup: this.logGroup, role: this.role } = ownLogsAndRole(this, props.description, props.logRetention));

    const fixtureFiles = [STATUS_FIXTURE, TASK_FIXTURE].map((file) => join(props.fixturesDir, file));
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize,
      timeout: Duration.seconds(timeoutSeconds),
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        // Stack traces in logs point into the TypeScript sources (the asset carries the source map).
        NODE_OPTIONS: '--enable-source-maps',
        [ENV.fixturesDir]: `${LAMBDA_TASK_ROOT}/${BUNDLED_FIXTURES}`,
        [ENV.tableName]: props.table.tableName,
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        // Some bundled CommonJS dependencies call require() for Node's built-ins; ESM has no require of its own.
        banner: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
        // The SDK goes into the asset, so the deployed code is the code the tests ran.
        bundleAwsSDK: true,
        minify: true,
        // Error names (TaskRunnerError's subclasses) appear in registers and logs.
        keepNames: true,
        sourceMap: true,
        esbuildArgs: { '--alias': Object.entries(registryAlias(this)).map(([from, to]) => `${from}=${to}`) },
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [
            `mkdir -p "${outputDir}/${BUNDLED_FIXTURES}"`,
            ...fixtureFiles.map((file) => `cp "${file}" "${outputDir}/${BUNDLED_FIXTURES}/"`),
          ],
        },
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: `Node.js 22 is the runtime the handlers are bundled for (esbuild target ${RUNTIME.name}) and that Powertools and the SDK in use support; a newer runtime is a deliberate upgrade, tested first.`,
    });
  }

  /**
   * Allows what the adapter declares for the store methods `use` names, each action only on the items it is
   * declared for: one statement per kind of item, on the table or the status index, with a condition on
   * `dynamodb:LeadingKeys` (every key a request names must match) confining it to the keys `scope` reaches.
   * The scope's task lists are read at synth, so a construct may add to them after this call.
   */
  grantStore(table: ITable, use: StoreUse, scope: ItemScope = {}): void {
    grantStoreTo(this.role, table, use, scope);
  }

  /** Allows `actions` on exactly these queues. */
  grantQueues(queues: readonly IQueue[], actions: readonly QueueAction[]): PolicyStatement | undefined {
    if (queues.length === 0 || actions.length === 0) return undefined;
    const statement = new PolicyStatement({ actions: actions.map((action) => `sqs:${action}`), resources: queues.map((queue) => queue.queueArn) });
    this.role.addToPrincipalPolicy(statement);
    return statement;
  }

  /**
   * Lets the function read the named Secrets Manager secrets, created outside the stack (a value never
   * appears in code), and passes SECRET_ARNS: name → ARN without the random suffix, which GetSecretValue
   * accepts as SecretId. The grant covers the suffix AWS appends to every secret's ARN.
   */
  readSecrets(names: readonly string[], owner: string): void {
    if (names.length === 0) return;
    const stack = Stack.of(this);
    const arns: Record<string, string> = {};
    for (const name of names) {
      // A name Secrets Manager accepts, not ending in what would read as the random suffix of a full ARN.
      if (!isSecretName(name)) throw new Error(`${owner}, field secretNames: "${name}" is not a Secrets Manager secret name`);
      if (looksLikeArnSuffix(name)) {
        throw new Error(`${owner}, field secretNames: "${name}" ends in a hyphen and six characters, which Secrets Manager would read as an ARN suffix; rename the secret`);
      }
      arns[name] = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    }
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: Object.values(arns).map((arn) => `${arn}-??????`) }),
    );
    this.function.addEnvironment(ENV.secretArns, stack.toJsonString(arns));
  }
}
