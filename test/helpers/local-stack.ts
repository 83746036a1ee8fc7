/** Integration-test plumbing: a local runtime on the shared DynamoDB Local and SQS emulator, and polling. */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { STATUS_FIXTURE, TASK_FIXTURE } from '../../lib/fixtures/load-catalog';
import { LocalRuntime, type LocalRuntimeOptions } from '../../lib/local/runtime';
import { localClientConfig } from '../../lib/local/services';
import type { AnyRunner } from '../../lib/runner';

let counter = 0;
const uniquePrefix = () => `t${process.pid.toString(36)}${Date.now().toString(36)}${(counter++).toString(36)}`;

/** Starts a runtime with its own table and queues; schedules stay quiet unless `tickMs` says otherwise. */
export const startTestRuntime = (runners: readonly AnyRunner[], options: Partial<LocalRuntimeOptions> = {}) =>
  LocalRuntime.start({
    runners,
    tickMs: 3_600_000,
    prefix: uniquePrefix(),
    endpoints: { dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint') },
    ...options,
  });

/** A fixtures directory with the project's statuses and the given tasks. */
export const fixturesWithTasks = (tasks: readonly string[]): string => {
  const dir = mkdtempSync(join(tmpdir(), 'fixtures-'));
  copyFileSync(join('fixtures', STATUS_FIXTURE), join(dir, STATUS_FIXTURE));
  writeFileSync(join(dir, TASK_FIXTURE), tasks.map((name) => `- model: host.Task\n  fields:\n    name: ${name}\n`).join(''));
  return dir;
};

/** Polls until `probe` returns something truthy, or fails naming what it waited for. */
export const waitFor = async <T>(what: string, probe: () => Promise<T | undefined | false | null>, timeoutMs = 30_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** Receives (and deletes) everything currently in a queue. */
export const drainQueue = async (queueUrl: string): Promise<Message[]> => {
  const sqs = new SQSClient(localClientConfig(inject('sqsEndpoint')));
  const messages: Message[] = [];
  for (let empty = 0; empty < 2; ) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, AttributeNames: ['All'] }),
    );
    if (Messages.length === 0) {
      empty++;
      continue;
    }
    messages.push(...Messages);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' })),
      }),
    );
  }
  sqs.destroy();
  return messages;
};
