/** Lambda entry of every transient runner's schedule (lib/handlers/dispatcher.ts). */
import { createEngine } from '../lib/bootstrap/create-engine';
import { loadConfig } from '../lib/settings/config';
import { dispatcherHandler } from '../lib/handlers/dispatcher';
import { ServiceName } from '../lib/engine/telemetry';
import { registry } from '#registry';

export const handler = dispatcherHandler(createEngine(loadConfig(process.env), { serviceName: ServiceName.Dispatcher, runners: registry }));
