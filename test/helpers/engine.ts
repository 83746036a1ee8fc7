/** An engine on the shared DynamoDB Local with a fresh table, for tests that drive the engine directly. */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { createEngine } from '../../lib/bootstrap/create-engine';
import type { TaskMessage } from '../../lib/domain/messages';
import type { Engine } from '../../lib/engine/engine';
import type { TaskQueues } from '../../lib/engine/queues';
import { localClientConfig } from '../../lib/local/services';
import type { AnyRunner } from '../../lib/runner';
import { createTableInput } from '../../lib/store/dynamodb/table';
import { memoryTaskStore } from '../../lib/store/memory';

let tables = 0;

export const engineOnLocalTable = async (runners: readonly AnyRunner[], fixturesDir: string, overrides: Partial<Engine> = {}): Promise<Engine> => {
  const dynamo = new DynamoDBClient(localClientConfig(inject('dynamodbEndpoint')));
  const tableName = `e${process.pid}-${Date.now().toString(36)}-${tables++}`;
  await dynamo.send(new CreateTableCommand(createTableInput(tableName)));
  const engine = createEngine(
    { tableName, queueUrls: {}, deadLetterQueueArns: {}, fixturesDir, retryBaseSeconds: 1 },
    { serviceName: 'test', runners, dynamo, sqs: new SQSClient(localClientConfig(inject('sqsEndpoint'))) },
  );
  return { ...engine, ...overrides };
};

/** Queues that record what was sent, in order, and refuse what `refuse` says. */
export const recordingQueues = (tasks: readonly string[], refuse: (message: TaskMessage) => boolean = () => false) => {
  const sent: TaskMessage[] = [];
  const queues: TaskQueues = {
    has: (task) => tasks.includes(task),
    send: async (_task, messages) => {
      const refused = messages.filter(refuse);
      sent.push(...messages.filter((message) => !refuse(message)));
      return refused;
    },
    retryLater: async () => undefined,
    acknowledge: async () => undefined,
    deadLetter: async () => undefined,
  };
  return { queues, sent };
};

/**
 * An engine on the in-memory store (the port's conformance suite holds it to the DynamoDB adapter's rules), for
 * tests of the engine's rules that need no database.
 */
export const engineInMemory = (runners: readonly AnyRunner[], fixturesDir: string, overrides: Partial<Engine> = {}): Engine => {
  const engine = createEngine(
    { tableName: 'in-memory', queueUrls: {}, deadLetterQueueArns: {}, fixturesDir, retryBaseSeconds: 1 },
    { serviceName: 'test', runners, sqs: new SQSClient({ region: 'us-east-1' }) },
  );
  return { ...engine, store: memoryTaskStore(), ...overrides };
};
