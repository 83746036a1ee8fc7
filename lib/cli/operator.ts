/**
 * The engine the CLI works through: the handlers' own engine (same store, queues and workflow), built on
 * clients for the chosen target. Failures to reach the target become one line that says what to do.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createEngine } from '../bootstrap/create-engine';
import { TaskRunnerError, coerceError, errorName } from '../domain/errors';
import type { Engine } from '../engine/engine';
import type { AnyRunner } from '../runner';
import { CliError, networkErrorOf } from './errors';
import type { Target } from './target';

export interface Operator {
  readonly target: Target;
  readonly engine: Engine;
  readonly sqs: SQSClient;
  close(): void;
}

export interface ConnectOptions {
  readonly runners: readonly AnyRunner[];
  readonly fixturesDir: string;
}

export const connect = (target: Target, options: ConnectOptions): Operator => {
  const dynamo = new DynamoDBClient(target.dynamodb);
  const sqs = new SQSClient(target.sqs);
  const engine = createEngine(
    { tableName: target.tableName, queueUrls: target.queueUrls, deadLetterQueueArns: {}, fixturesDir: options.fixturesDir, retryBaseSeconds: 10 },
    { serviceName: 'cli', runners: options.runners, dynamo, sqs },
  );
  return {
    target,
    // The commands report what did not happen themselves, in one line (a send that failed is in the result an
    // operation returns); the engine's JSON logs, stack traces included, are the handlers' business.
    engine: { ...engine, logger: new Logger({ serviceName: 'cli', logLevel: 'ERROR' }) },
    sqs,
    close: () => {
      dynamo.destroy();
      sqs.destroy();
    },
  };
};

/** Which of the target's services listens where a network error happened (for the local runtime's two). */
const serviceAt = (network: { address?: string; port?: number }, target: Target): string | undefined => {
  const at = `${network.address}:${network.port}`;
  const hostOf = (endpoint: string | undefined) => (endpoint ? new URL(endpoint).host : undefined);
  if (hostOf(target.dynamodb.endpoint) === at) return target.local ? 'DynamoDB Local' : 'DynamoDB';
  if (hostOf(target.sqs.endpoint) === at) return target.local ? 'the SQS emulator' : 'SQS';
  return undefined;
};

const describeNetworkError = (network: { code?: string; address?: string; port?: number }) =>
  `${network.code === 'ECONNREFUSED' ? 'connection refused' : network.code}${network.address && network.port ? ` at ${network.address}:${network.port}` : ''}`;

/** Why a send to a queue failed, in a few words: which service, and what it did. */
export const describeSendFailure = (error: Error | undefined, target: Target): string => {
  if (!error) return 'the queue refused the message';
  const network = networkErrorOf(error);
  if (network) return `${serviceAt(network, target) ?? (target.local ? 'the SQS emulator' : 'SQS')}: ${describeNetworkError(network)}`;
  return `${error.name}: ${error.message.split('\n')[0]}`;
};

/** Turns a failure to reach the target into one actionable line; other errors pass through unchanged. */
export const explainFailure = (thrown: unknown, target: Target): Error => {
  const error = coerceError(thrown);
  // The framework's own errors (a bad transients file, an unknown runner) already say what is wrong.
  if (error instanceof TaskRunnerError) return error;
  const network = networkErrorOf(error);
  if (network && target.local) {
    const service = serviceAt(network, target);
    return new CliError(
      `the local runtime is not running: ${describeNetworkError(network)}${service ? ` (${service})` : ''} ` +
        `(endpoints from ${target.stateFile ?? target.description}); start it with \`npm start -- --keep-running\``,
      { cause: error },
    );
  }
  if (network) return new CliError(`cannot reach AWS for ${target.description}: ${network.code} ${network.message}`, { cause: error });
  if (errorName(error) === 'ResourceNotFoundException') {
    return new CliError(`table "${target.tableName}" not found for ${target.description}: ${error.message}`, { cause: error });
  }
  return error;
};
