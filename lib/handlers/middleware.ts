import type { MiddlewareObj } from '@middy/core';
import type { SQSRecord } from 'aws-lambda';
import type { Delivery } from '../engine/worker';
import type { TaskMetrics } from '../engine/telemetry';

/** Flushes the invocation's metrics as EMF whether the handler succeeded or threw. */
export const publishMetrics = (metrics: TaskMetrics): MiddlewareObj => ({
  after: () => metrics.publish(),
  onError: () => metrics.publish(),
});

/** The fields of an SQS record the engine uses. */
export const toDelivery = (record: SQSRecord): Delivery => ({
  messageId: record.messageId,
  receiptHandle: record.receiptHandle,
  body: record.body,
  receiveCount: Math.max(1, Number(record.attributes?.ApproximateReceiveCount) || 1),
  source: record.eventSourceARN,
});

/**
 * Epoch ms at which the invocation will be cut off, by `clock` (the engine's): every deadline check compares it
 * with the same clock, whatever that clock's offset from other hosts'.
 */
export const deadlineOf = (context: { getRemainingTimeInMillis(): number }, clock: () => number) => clock() + context.getRemainingTimeInMillis();
