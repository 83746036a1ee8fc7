/**
 * What the framework's own work costs on AWS per million task executions, from the request units, SQS
 * requests and Lambda time counted in a run, at the list prices of prices.ts; and what the same executions
 * would cost as Step Functions Standard state transitions.
 */
import { prices } from './prices';

/** The framework's own consumption over a run (the runners' science excluded). */
export interface FrameworkUsage {
  readonly executions: number;
  readonly dynamodb: { readonly writeUnits: number; readonly readUnits: number };
  /** SQS requests as billed: one per 64 KB chunk of each call's payload. */
  readonly sqs: { readonly billedRequests: number };
  readonly lambda: { readonly invocations: number; readonly gbSeconds: number };
}

export interface CostBreakdown {
  readonly dynamodb: number;
  readonly sqs: number;
  readonly lambda: number;
  readonly total: number;
}

const perMillion = (amount: number, executions: number) => (executions > 0 ? (amount / executions) * 1e6 : Number.NaN);

/** US dollars per million task executions, by service. */
export const usdPerMillionExecutions = (usage: FrameworkUsage): CostBreakdown => {
  const { executions } = usage;
  const dynamodb = perMillion(
    (usage.dynamodb.writeUnits * prices.dynamodb.usdPerMillionWriteUnits + usage.dynamodb.readUnits * prices.dynamodb.usdPerMillionReadUnits) / 1e6,
    executions,
  );
  const sqs = perMillion((usage.sqs.billedRequests * prices.sqs.usdPerMillionRequests) / 1e6, executions);
  const lambda = perMillion(
    (usage.lambda.invocations * prices.lambda.usdPerMillionRequests) / 1e6 + usage.lambda.gbSeconds * prices.lambda.usdPerGbSecond,
    executions,
  );
  return { dynamodb, sqs, lambda, total: dynamodb + sqs + lambda };
};

/**
 * The latency of one call from a Lambda function to the service in its region, typical rather than worst:
 * DynamoDB advertises single-digit milliseconds; SQS sends and receives take longer. An assumption, used to
 * project the time the framework waits on its calls from the local stand-ins' latency (which grows with this
 * machine's load) to AWS's.
 */
export const AWS_CALL_LATENCY_MS = { dynamodb: 10, sqs: 20 } as const;

/** SQS bills each 64 KB chunk of a call's payload as one request. */
export { billingChunks as billedSqsRequests } from '../lib/queue/task-queues';

/** Lambda bills memory × duration rounded up to the millisecond. */
export const gbSeconds = (durationMs: number, memoryMb: number): number => (Math.ceil(durationMs) / 1000) * (memoryMb / 1024);

/**
 * The same executions as a Step Functions Standard workflow: each task a Task state (one transition) that
 * invokes the runner's Lambda once. A lower bound: the Parallel and Choice states the workflow's fan-out and
 * error statuses need, and the register writes Blast's pages read, are not counted.
 */
export const stepFunctionsUsdPerMillion = (): number =>
  prices.stepFunctions.usdPerMillionTransitions + prices.lambda.usdPerMillionRequests;
