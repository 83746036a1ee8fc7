/** Lambda entry of the web view's API behind API Gateway's HTTP API with a JWT authorizer (lib/web/api.ts). */
import { createEngine } from '../lib/bootstrap/create-engine';
import { createQueueDepths } from '../lib/bootstrap/queue-depths';
import { loadConfig } from '../lib/settings/config';
import { ServiceName } from '../lib/engine/telemetry';
import { createWebApi } from '../lib/web/api';
import { httpApiHandler } from '../lib/web/http-api';
import { registry } from '../runners/registry';

const config = loadConfig(process.env);

export const handler = httpApiHandler(
  createWebApi({ engine: createEngine(config, { serviceName: ServiceName.WebApi, runners: registry }), queueDepths: createQueueDepths(config) }),
);
