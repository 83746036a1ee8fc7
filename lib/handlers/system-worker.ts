/** The handler of every system runner's schedule: the EventBridge input names the runner to run. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { parseScheduleEvent } from '../domain/messages';
import type { Engine } from '../engine/engine';
import { type SystemServices, runSystemTask } from '../engine/system';
import { deadlineOf, publishMetrics } from './middleware';

export const systemWorkerHandler = (engine: Engine, services: SystemServices) =>
  middy((event: unknown, context: Context) =>
    runSystemTask(engine, parseScheduleEvent(event).task, { deadline: deadlineOf(context, engine.clock), services }),
  )
    .use(injectLambdaContext(engine.logger, { resetKeys: true }))
    .use(publishMetrics(engine.metrics));
