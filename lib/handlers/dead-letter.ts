/**
 * The handler of the runners' dead-letter queues: records the error status of each message that used up its
 * deliveries and keeps it as a dead-letter record for `dlq list` and `dlq redrive`. The task is the one of the
 * queue the message came from (`deadLetterQueueArns`: task → ARN), never the one its body names.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { recordDeadLetter } from '../engine/dead-letters';
import type { Engine } from '../engine/engine';
import { publishMetrics, toDelivery } from './middleware';

export const deadLetterHandler = (engine: Engine, deadLetterQueueArns: Readonly<Record<string, string>>) => {
  const taskOfQueue = new Map(Object.entries(deadLetterQueueArns).map(([task, arn]) => [arn, task]));
  const onRecord = (record: SQSRecord) => recordDeadLetter(engine, toDelivery(record), taskOfQueue.get(record.eventSourceARN));
  // A processor per invocation: it holds the batch's results, and the local runtime runs invocations concurrently.
  return middy((event: SQSEvent, context: Context) =>
    processPartialResponse(event, onRecord, new BatchProcessor(EventType.SQS), { context, throwOnFullBatchFailure: false }),
  )
    .use(injectLambdaContext(engine.logger, { resetKeys: true }))
    .use(publishMetrics(engine.metrics));
};
