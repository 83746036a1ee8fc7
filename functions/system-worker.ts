/** Lambda entry of every system runner's schedule (lib/handlers/system-worker.ts). */
import { createEngine } from '../lib/bootstrap/create-engine';
import { loadConfig } from '../lib/settings/config';
import { systemWorkerHandler } from '../lib/handlers/system-worker';
import { createSystemServices } from '../lib/bootstrap/system-services';
import { ServiceName } from '../lib/engine/telemetry';
import { registry } from '#registry';

const config = loadConfig(process.env);
export const handler = systemWorkerHandler(
  createEngine(config, { serviceName: ServiceName.SystemWorker, runners: registry }),
  createSystemServices(config, process.env),
);
