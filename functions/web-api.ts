/** Lambda entry of the web view's API behind API Gateway's HTTP API with a JWT authorizer (lib/web/api.ts). */
import { createEngine } from '../lib/bootstrap/create-engine';
import { createQueueDepths } from '../lib/bootstrap/queue-depths';
import { loadConfig } from '../lib/settings/config';
import { cloudWatchLocation, logGroupLocation } from '../lib/engine/log-location';
import { ServiceName } from '../lib/engine/telemetry';
import { createWebApi } from '../lib/web/api';
import { httpApiHandler } from '../lib/web/http-api';
import { registry } from '#registry';

const config = loadConfig(process.env);
/** Lambda sets it: the attempts' logs are linked to this region's CloudWatch console. */
const region = process.env.AWS_REGION;

export const handler = httpApiHandler(
  createWebApi({
    engine: createEngine(config, { serviceName: ServiceName.WebApi, runners: registry }),
    queueDepths: createQueueDepths(config),
    logs: region ? cloudWatchLocation(region) : logGroupLocation,
  }),
);
