/** Builds an engine from a configuration: what every handler's module scope does once per container. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from './config';
import { assertValidRegistry } from './domain/validation';
import { type Engine, runnersByTask } from './engine/engine';
import { loadCatalog } from './fixtures';
import { type QueueMeter, taskQueues } from './queue/task-queues';
import type { AnyRunner } from './runner';
import { type CapacityMeter, taskStore } from './store/task-store';
import { TaskMetrics, createLogger } from './telemetry';

export interface EngineOptions {
  readonly serviceName: string;
  readonly runners: readonly AnyRunner[];
  readonly dynamo?: DynamoDBClient;
  readonly sqs?: SQSClient;
  readonly capacityMeter?: CapacityMeter;
  readonly queueMeter?: QueueMeter;
  readonly clock?: () => number;
}

export const documentClient = (client: DynamoDBClient) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

export const createEngine = (config: Config, options: EngineOptions): Engine => {
  const workflow = assertValidRegistry(loadCatalog(config.fixturesDir), options.runners);
  const doc = documentClient(options.dynamo ?? new DynamoDBClient({}));
  return {
    workflow,
    runners: runnersByTask(options.runners),
    store: taskStore(doc, config.tableName, options.capacityMeter),
    queues: taskQueues(options.sqs ?? new SQSClient({}), config.queueUrls, options.queueMeter),
    clock: options.clock ?? Date.now,
    logger: createLogger(options.serviceName),
    metrics: new TaskMetrics(options.serviceName),
    retryBaseSeconds: config.retryBaseSeconds,
  };
};
