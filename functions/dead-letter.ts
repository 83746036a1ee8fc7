/**
 * Lambda handler of the runners' dead-letter queues: records the error status of each message that used
 * up its deliveries and keeps it as a dead-letter record for `dlq list` and `dlq redrive`.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { createEngine } from '../lib/bootstrap';
import { loadConfig } from '../lib/config';
import { recordDeadLetter } from '../lib/engine/dead-letters';
import { publishMetrics, toDelivery } from '../lib/middleware';
import { ServiceName } from '../lib/telemetry';
import { registry } from './registry';

const config = loadConfig(process.env);
const engine = createEngine(config, { serviceName: ServiceName.DeadLetter, runners: registry });
const taskOfQueue = new Map(Object.entries(config.deadLetterQueueArns).map(([task, arn]) => [arn, task]));

const onRecord = (record: SQSRecord) => recordDeadLetter(engine, toDelivery(record), taskOfQueue.get(record.eventSourceARN));

export const handler = middy((event: SQSEvent, context: Context) =>
  // A processor per invocation: it holds the batch's results, and the local runtime runs invocations concurrently.
  processPartialResponse(event, onRecord, new BatchProcessor(EventType.SQS), { context, throwOnFullBatchFailure: false }),
)
  .use(injectLambdaContext(engine.logger, { resetKeys: true }))
  .use(publishMetrics(engine.metrics));
