/** Lambda handler of every system runner's schedule: the EventBridge input names the runner to run. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createEngine } from '../lib/bootstrap';
import { loadConfig } from '../lib/config';
import { parseScheduleEvent } from '../lib/domain/messages';
import { runSystemTask } from '../lib/engine/system';
import { deadlineOf, publishMetrics } from '../lib/middleware';
import { createSystemServices } from '../lib/system-services';
import { ServiceName } from '../lib/telemetry';
import { registry } from './registry';

const config = loadConfig(process.env);
const engine = createEngine(config, { serviceName: ServiceName.SystemWorker, runners: registry });
const services = createSystemServices(config, process.env);

export const handler = middy((event: unknown, context: Context) =>
  runSystemTask(engine, parseScheduleEvent(event).task, { deadline: deadlineOf(context, engine.clock), services }),
)
  .use(injectLambdaContext(engine.logger, { resetKeys: true }))
  .use(publishMetrics(engine.metrics));
