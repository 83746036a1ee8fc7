/**
 * The handler of every transient runner's schedule: the EventBridge input names the runner; the ready
 * transients go to its queue, oldest public timestamp first.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { parseScheduleEvent } from '../domain/messages';
import { dispatchReady } from '../engine/dispatch';
import type { Engine } from '../engine/engine';
import { deadlineOf, publishMetrics } from './middleware';

/** Time kept back from the function's timeout to release the lock and flush metrics. */
const STOP_MARGIN_MS = 5_000;

export const dispatcherHandler = (engine: Engine) =>
  middy(async (event: unknown, context: Context) => {
    const { task } = parseScheduleEvent(event);
    const result = await dispatchReady(engine, task, { owner: context.awsRequestId, deadline: deadlineOf(context, engine.clock) - STOP_MARGIN_MS });
    engine.logger.info('dispatch finished', { ...result });
    return result;
  })
    .use(injectLambdaContext(engine.logger, { resetKeys: true }))
    .use(publishMetrics(engine.metrics));
