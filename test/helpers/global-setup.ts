/**
 * Starts one DynamoDB Local and one SQS emulator for the whole test run; every integration test file
 * creates its own table and queues on them under a unique prefix.
 */
import 'vitest';
import type { TestProject } from 'vitest/node';
import { type LocalService, startLocalServices } from '../../lib/local/services';

let services: LocalService[] = [];
// The tests run on Node 20 by design; the SDK's notice about its future Node 22 requirement is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export async function setup(project: TestProject) {
  const [dynamodb, sqs] = await startLocalServices();
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
