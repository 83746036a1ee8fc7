/** Lambda entry of every transient runner's queue (lib/handlers/transient-worker.ts). */
import { createEngine } from '../lib/bootstrap';
import { loadConfig } from '../lib/config';
import { transientWorkerHandler } from '../lib/handlers/transient-worker';
import { ServiceName } from '../lib/telemetry';
import { registry } from './registry';

export const handler = transientWorkerHandler(createEngine(loadConfig(process.env), { serviceName: ServiceName.TransientWorker, runners: registry }));
