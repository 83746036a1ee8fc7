/**
 * The handler of every transient runner's queue: a batch of SQS messages, each one (transient, task)
 * → claim → process → record the status → send what became ready. Reports partial batch failures.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Engine } from '../engine/engine';
import { handleDelivery } from '../engine/worker';
import { deadlineOf, publishMetrics, toDelivery } from './middleware';

export const transientWorkerHandler = (engine: Engine) => {
  const onRecord = (record: SQSRecord, context: Context) =>
    handleDelivery(engine, toDelivery(record), {
      deadline: deadlineOf(context, engine.clock),
      logger: engine.logger,
      invocation: { requestId: context.awsRequestId, logGroup: context.logGroupName, logStream: context.logStreamName },
    });
  // A processor per invocation: it holds the batch's results, and the local runtime runs invocations concurrently.
  return middy((event: SQSEvent, context: Context) =>
    processPartialResponse(event, (record: SQSRecord) => onRecord(record, context), new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    }),
  )
    .use(injectLambdaContext(engine.logger, { resetKeys: true }))
    .use(publishMetrics(engine.metrics));
};
