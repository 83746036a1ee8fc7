/** Lambda entry of the runners' dead-letter queues (lib/handlers/dead-letter.ts). */
import { createEngine } from '../lib/bootstrap/create-engine';
import { loadConfig } from '../lib/settings/config';
import { deadLetterHandler } from '../lib/handlers/dead-letter';
import { ServiceName } from '../lib/engine/telemetry';
import { registry } from '#registry';

const config = loadConfig(process.env);
export const handler = deadLetterHandler(createEngine(config, { serviceName: ServiceName.DeadLetter, runners: registry }), config.deadLetterQueueArns);
