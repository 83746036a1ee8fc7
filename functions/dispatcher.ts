/**
 * Lambda handler of every transient runner's schedule: the EventBridge input names the runner; the ready
 * transients go to its queue, oldest public timestamp first.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createEngine } from '../lib/bootstrap';
import { loadConfig } from '../lib/config';
import { parseScheduleEvent } from '../lib/domain/messages';
import { dispatchReady } from '../lib/engine/dispatch';
import { deadlineOf, publishMetrics } from '../lib/middleware';
import { ServiceName } from '../lib/telemetry';
import { registry } from './registry';

/** Time kept back from the function's timeout to release the lock and flush metrics. */
const STOP_MARGIN_MS = 5_000;

const engine = createEngine(loadConfig(process.env), { serviceName: ServiceName.Dispatcher, runners: registry });

export const handler = middy(async (event: unknown, context: Context) => {
  const { task } = parseScheduleEvent(event);
  const result = await dispatchReady(engine, task, { owner: context.awsRequestId, deadline: deadlineOf(context, engine.clock) - STOP_MARGIN_MS });
  engine.logger.info('dispatch finished', { ...result });
  return result;
})
  .use(injectLambdaContext(engine.logger, { resetKeys: true }))
  .use(publishMetrics(engine.metrics));
