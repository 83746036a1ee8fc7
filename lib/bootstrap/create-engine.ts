/** Builds an engine from a configuration: what every handler's module scope does once per container. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig, countRetries, retryOnlyThrottling } from './aws-clients';
import { type Config, ENV } from '../settings/config';
import { assertValidRegistry } from '../domain/validation';
import { type Engine, runnersByTask } from '../engine/engine';
import { loadCatalog } from '../fixtures/load-catalog';
import { type QueueMeter, taskQueues } from '../queue/task-queues';
import { sqsQueueDepths } from '../queue/queue-depths';
import { type AnyRunner, isPythonRunner, isTransientRunner } from '../runner';
import { ECSClient } from '@aws-sdk/client-ecs';
import { Compute } from '../domain/compute';
import type { ContainerRuns } from '../engine/container-runs';
import { ecsContainerRuns } from '../container/ecs-container-runs';
import { invokeClient, lambdaRunnerFunctions } from '../python/lambda-functions';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { objectStore } from '../scratch/object-store';
import { type CapacityMeter, dynamoTaskStore, isCounterWrite } from '../store/dynamodb';
import { TaskMetrics, createLogger } from '../engine/telemetry';

export interface EngineOptions {
  readonly serviceName: string;
  readonly runners: readonly AnyRunner[];
  readonly dynamo?: DynamoDBClient;
  readonly sqs?: SQSClient;
  /** Invokes Python runners' functions. @default a client whose timeout covers the longest Python runner's */
  readonly lambda?: LambdaClient;
  /** Starts container runs. @default ECS RunTask, where a runner has `compute: 'container'` */
  readonly containers?: ContainerRuns;
  /** Reaches the artifacts when ARTIFACT_LOCATION is an S3 location. @default a client from the environment */
  readonly s3?: () => S3Client;
  readonly capacityMeter?: CapacityMeter;
  readonly queueMeter?: QueueMeter;
  readonly clock?: () => number;
  /**
   * Wraps the engine once it is built, with the clients it uses (the local runtime's fault injection: the
   * Lambda entries pass none, so nothing of it reaches a deployed function).
   */
  readonly decorate?: (engine: Engine, clients: EngineClients) => Engine;
}

/** The AWS clients an engine talks through. */
export interface EngineClients {
  readonly dynamo: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly doc: DynamoDBDocumentClient;
}

export const documentClient = (client: DynamoDBClient) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

export const createEngine = (config: Config, options: EngineOptions): Engine => {
  const workflow = assertValidRegistry(loadCatalog(config.fixturesDir), options.runners);
  const metrics = new TaskMetrics(options.serviceName);
  const dynamo = options.dynamo ?? new DynamoDBClient(awsClientConfig);
  const sqs = options.sqs ?? new SQSClient(awsClientConfig);
  countRetries(dynamo, 'DynamoDB', metrics);
  countRetries(sqs, 'SQS', metrics);
  retryOnlyThrottling(dynamo, isCounterWrite);
  const doc = documentClient(dynamo);
  const pythonRunners = options.runners.filter(isPythonRunner);
  const containerRunners = options.runners.filter((runner) => isTransientRunner(runner) && runner.compute === Compute.Container);
  const containers = options.containers ?? (containerRunners.length > 0 ? ecsContainerRuns(new ECSClient(awsClientConfig), config.containerTasks ?? {}) : undefined);
  const engine: Engine = {
    workflow,
    runners: runnersByTask(options.runners),
    store: dynamoTaskStore(doc, config.tableName, options.capacityMeter),
    queues: taskQueues(sqs, config.queueUrls, options.queueMeter, config.deadLetterQueueUrls),
    clock: options.clock ?? Date.now,
    logger: createLogger(options.serviceName),
    metrics,
    retryBaseSeconds: config.retryBaseSeconds,
    // Read by the dispatcher only (GetQueueAttributes on the queues it sends to), to keep them shallow.
    queueDepths: sqsQueueDepths(sqs, config.queueUrls),
    ...(config.historyRetentionDays === undefined ? {} : { historyRetentionDays: config.historyRetentionDays }),
    ...(config.artifactLocation
      ? { artifacts: objectStore(config.artifactLocation, ENV.artifactLocation, options.s3 ?? (() => new S3Client({}))) }
      : {}),
    ...(pythonRunners.length > 0
      ? {
          functions: lambdaRunnerFunctions(
            options.lambda ?? invokeClient(Math.max(...pythonRunners.map((runner) => runner.timeoutSeconds))),
            config.runnerFunctions ?? {},
          ),
        }
      : {}),
    ...(containers ? { containers } : {}),
  };
  return options.decorate ? options.decorate(engine, { dynamo, sqs, doc }) : engine;
};
