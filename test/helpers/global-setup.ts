/**
 * Makes the project's Python environment (.venv, from python/requirements.txt) when it is missing or stale,
 * then starts one DynamoDB Local and one SQS emulator for the whole test run; every integration test file
 * creates its own table and queues on them under a unique prefix.
 */
import 'vitest';
import type { TestProject } from 'vitest/node';
import { type LocalService, startLocalServices } from '../../lib/local/services';
import { ensurePythonEnvironment } from '../../lib/python/environment';

let services: LocalService[] = [];
// The tests run on Node 20 by design; the SDK's notice about its future Node 22 requirement is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export async function setup(project: TestProject) {
  // The Python runners' tests need it; without Python, one line, and every other test runs.
  const [python, [dynamodb, sqs]] = await Promise.all([ensurePythonEnvironment({ onLine: (line) => process.stdout.write(`${line}\n`) }), startLocalServices()]);
  if (!python.ready) process.stdout.write(`! ${python.problem}\n`);
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
