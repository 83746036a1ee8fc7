/** Lambda entry of every transient runner's queue (lib/handlers/transient-worker.ts). */
import { createEngine } from '../lib/bootstrap/create-engine';
import { loadConfig } from '../lib/settings/config';
import { transientWorkerHandler } from '../lib/handlers/transient-worker';
import { ServiceName } from '../lib/engine/telemetry';
import { registry } from '#registry';

export const handler = transientWorkerHandler(createEngine(loadConfig(process.env), { serviceName: ServiceName.TransientWorker, runners: registry }));
