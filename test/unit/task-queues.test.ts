import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { queueNameOf, taskQueues } from '../../lib/queue/task-queues';

const sqs = mockClient(SQSClient);
const queues = taskQueues(
  new SQSClient({ region: 'us-east-1' }),
  { 'Host match': 'https://sqs.eu-west-1.amazonaws.com/123456789012/blast-host-match' },
  undefined,
  { 'Host match': 'https://sqs.eu-west-1.amazonaws.com/123456789012/blast-host-match-dlq' },
);

describe('Function: taskQueues.deadLetter', () => {
  beforeEach(() => sqs.reset());

  it("sends a message as it is to the dead-letter queue of the queue it came from", async () => {
    // Act
    const task = await queues.deadLetter('arn:aws:sqs:eu-west-1:123456789012:blast-host-match', '{not json');

    // Assess
    expect(task).toBe('Host match');
    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/blast-host-match-dlq', MessageBody: '{not json' },
    ]);
  });

  it('sends nothing for a queue it has no dead-letter queue for', async () => {
    expect(await queues.deadLetter('arn:aws:sqs:eu-west-1:123456789012:elsewhere', 'x')).toBeUndefined();
    expect(sqs.commandCalls(SendMessageCommand)).toEqual([]);
  });

  it.each([
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/blast-a', 'blast-a'],
    ['arn:aws:sqs:eu-west-1:123456789012:blast-a', 'blast-a'],
    ['http://127.0.0.1:4566/000000000000/blast-a-dlq', 'blast-a-dlq'],
  ])('reads the queue name of %s', (given, name) => {
    expect(queueNameOf(given)).toBe(name);
  });
});
