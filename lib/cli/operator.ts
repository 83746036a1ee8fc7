/**
 * The engine the CLI works through: the handlers' own engine (same store, queues and workflow), built on
 * clients for the chosen target. Failures to reach the target become one line that says what to do.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createEngine } from '../bootstrap';
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
    // The engine's warnings (a send that fell back to a ready marker) go to stderr; its info logs are the handlers' business.
    engine: { ...engine, logger: new Logger({ serviceName: 'cli', logLevel: 'WARN' }) },
    sqs,
    close: () => {
      dynamo.destroy();
      sqs.destroy();
    },
  };
};

/** Turns a failure to reach the target into one actionable line; other errors pass through unchanged. */
export const explainFailure = (thrown: unknown, target: Target): Error => {
  const error = coerceError(thrown);
  // The framework's own errors (a bad transients file, an unknown runner) already say what is wrong.
  if (error instanceof TaskRunnerError) return error;
  const network = networkErrorOf(error);
  if (network && target.local) {
    const where = network.address && network.port ? ` at ${network.address}:${network.port}` : '';
    return new CliError(
      `the local runtime is not running: ${network.code === 'ECONNREFUSED' ? 'connection refused' : network.code}${where} ` +
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
