/**
 * Starts one DynamoDB Local and one SQS emulator for the whole test run; every integration test file
 * creates its own table and queues on them under a unique prefix.
 */
import 'vitest';
import type { TestProject } from 'vitest/node';
import { type LocalService, startDynamoDbLocal, startSqsEmulator } from '../../lib/local/services';

let services: LocalService[] = [];

export async function setup(project: TestProject) {
  const [dynamodb, sqs] = await Promise.all([startDynamoDbLocal(), startSqsEmulator()]);
  services = [dynamodb, sqs];
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
  project.provide('sqsEndpoint', sqs.endpoint);
}

export async function teardown() {
  await Promise.all(services.map((service) => service.stop()));
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    sqsEndpoint: string;
  }
}
