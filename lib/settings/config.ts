/**
 * Handler configuration, read from the environment by entry files only. The same variables configure the
 * Lambda functions (set by the stack) and the local runtime (set by `npm start`); the AWS SDK itself
 * reads AWS_REGION and AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_LAMBDA.
 */
import { z } from 'zod';
import { ConfigError } from '../domain/errors';

export const ENV = {
  tableName: 'TABLE_NAME',
  queueUrls: 'TASK_QUEUE_URLS',
  deadLetterQueues: 'TASK_DEAD_LETTER_QUEUE_ARNS',
  fixturesDir: 'FIXTURES_DIR',
  retryBaseSeconds: 'RETRY_BASE_SECONDS',
  /** Secret name → ARN of the Secrets Manager secrets a runner reads (set only on functions whose runner declares `secretNames`). */
  secretArns: 'SECRET_ARNS',
  /** Scratch data: `s3://bucket/prefix/` in AWS, a directory locally. */
  scratchLocation: 'SCRATCH_LOCATION',
  /** Runs' artifacts: `s3://bucket/prefix/` in AWS, a directory locally (set on transient workers, Python runners' functions and pruning). */
  artifactLocation: 'ARTIFACT_LOCATION',
  deadLetterQueueUrls: 'TASK_DEAD_LETTER_QUEUE_URLS',
  /** Task → name of the function a Python runner's runs happen in (set only on that runner's worker). */
  runnerFunctions: 'RUNNER_FUNCTIONS',
  /** Task → the ECS task a container runner's runs start as (set only on that runner's worker). */
  containerTasks: 'CONTAINER_TASKS',
  /** The run a container was started for (set by its starter, per run: lib/engine/container-runs.ts). */
  containerRun: 'BLAST_CONTAINER_RUN',
  /** Days each run-history record is kept before DynamoDB's TTL deletes it (set on transient workers). */
  historyRetentionDays: 'HISTORY_RETENTION_DAYS',
} as const;

/** Where a container runner's runs start (ECS RunTask's parameters, from the stack). */
export interface ContainerTask {
  readonly cluster: string;
  readonly taskDefinition: string;
  /** The container that runs the run (its environment gets the run). */
  readonly container: string;
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
}

const containerTaskSchema = z.strictObject({
  cluster: z.string().min(1),
  taskDefinition: z.string().min(1),
  container: z.string().min(1),
  subnets: z.array(z.string().min(1)).min(1),
  securityGroups: z.array(z.string().min(1)),
});

const urlMap = z.record(z.string(), z.string().min(1));

export interface Config {
  readonly tableName: string;
  /** Task → URL of its queue: the queues this function may send to. */
  readonly queueUrls: Readonly<Record<string, string>>;
  /** Task → ARN of its dead-letter queue (the dead-letter handler's routing of unreadable messages). */
  readonly deadLetterQueueArns: Readonly<Record<string, string>>;
  /** Task → URL of its dead-letter queue, where the worker moves poison messages at once (optional). */
  readonly deadLetterQueueUrls?: Readonly<Record<string, string>>;
  readonly fixturesDir: string;
  readonly retryBaseSeconds: number;
  /**
   * Secret name → ARN to pass as GetSecretValue's SecretId (the runner's `secretNames`); a secret not listed is
   * read from environment variables instead. loadConfig always sets it.
   */
  readonly secretArns?: Readonly<Record<string, string>>;
  readonly scratchLocation?: string;
  readonly artifactLocation?: string;
  /** Task → the function a Python runner's runs happen in (Lambda's Invoke takes a name or an ARN). */
  readonly runnerFunctions?: Readonly<Record<string, string>>;
  /** Task → where a container runner's runs start. */
  readonly containerTasks?: Readonly<Record<string, ContainerTask>>;
  /** Days a run-history record is kept. @default DEFAULT_HISTORY_RETENTION_DAYS */
  readonly historyRetentionDays?: number;
}

const json = (env: NodeJS.ProcessEnv, name: string, keys = 'task name'): Record<string, string> => {
  const text = env[name];
  if (!text) return {};
  try {
    return urlMap.parse(JSON.parse(text));
  } catch (cause) {
    throw new ConfigError(`${name} must be a JSON object of ${keys} → string`, { cause });
  }
};

const containerTasks = (env: NodeJS.ProcessEnv): Record<string, ContainerTask> => {
  const text = env[ENV.containerTasks];
  if (!text) return {};
  try {
    return z.record(z.string(), containerTaskSchema).parse(JSON.parse(text));
  } catch (cause) {
    throw new ConfigError(`${ENV.containerTasks} must be a JSON object of task name → { cluster, taskDefinition, container, subnets, securityGroups }`, { cause });
  }
};

export const loadConfig = (env: NodeJS.ProcessEnv): Config => {
  const tableName = env[ENV.tableName];
  if (!tableName) throw new ConfigError(`${ENV.tableName} is not set: the handlers need the DynamoDB table's name`);
  const retryBaseSeconds = Number(env[ENV.retryBaseSeconds] ?? 10);
  if (!Number.isFinite(retryBaseSeconds) || retryBaseSeconds < 0) {
    throw new ConfigError(`${ENV.retryBaseSeconds} must be a number of seconds, not "${env[ENV.retryBaseSeconds]}"`);
  }
  const retention = env[ENV.historyRetentionDays];
  const historyRetentionDays = retention === undefined || retention === '' ? undefined : Number(retention);
  if (historyRetentionDays !== undefined && (!Number.isInteger(historyRetentionDays) || historyRetentionDays < 1)) {
    throw new ConfigError(`${ENV.historyRetentionDays} must be a whole number of days (1 or more), not "${retention}"`);
  }
  return {
    tableName,
    ...(historyRetentionDays === undefined ? {} : { historyRetentionDays }),
    queueUrls: json(env, ENV.queueUrls),
    deadLetterQueueArns: json(env, ENV.deadLetterQueues),
    deadLetterQueueUrls: json(env, ENV.deadLetterQueueUrls),
    fixturesDir: env[ENV.fixturesDir] ?? 'fixtures',
    retryBaseSeconds,
    secretArns: json(env, ENV.secretArns, 'secret name'),
    ...(env[ENV.scratchLocation] ? { scratchLocation: env[ENV.scratchLocation] } : {}),
    ...(env[ENV.artifactLocation] ? { artifactLocation: env[ENV.artifactLocation] } : {}),
    runnerFunctions: json(env, ENV.runnerFunctions),
    containerTasks: containerTasks(env),
  };
};
