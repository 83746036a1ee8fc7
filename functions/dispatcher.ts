/** Lambda entry of every transient runner's schedule (lib/handlers/dispatcher.ts). */
import { createEngine } from '../lib/bootstrap';
import { loadConfig } from '../lib/config';
import { dispatcherHandler } from '../lib/handlers/dispatcher';
import { ServiceName } from '../lib/telemetry';
import { registry } from './registry';

export const handler = dispatcherHandler(createEngine(loadConfig(process.env), { serviceName: ServiceName.Dispatcher, runners: registry }));
