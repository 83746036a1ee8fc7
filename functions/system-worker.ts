/** Lambda entry of every system runner's schedule (lib/handlers/system-worker.ts). */
import { createEngine } from '../lib/bootstrap';
import { loadConfig } from '../lib/config';
import { systemWorkerHandler } from '../lib/handlers/system-worker';
import { createSystemServices } from '../lib/system-services';
import { ServiceName } from '../lib/telemetry';
import { registry } from './registry';

const config = loadConfig(process.env);
export const handler = systemWorkerHandler(
  createEngine(config, { serviceName: ServiceName.SystemWorker, runners: registry }),
  createSystemServices(config, process.env),
);
