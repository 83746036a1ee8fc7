/**
 * Entry of a container run on ECS Fargate (lib/handlers/container-run.ts): the task definition's container runs this
 * bundle once per run, with the run in BLAST_CONTAINER_RUN, and the process exits when the run has ended.
 */
import { createEngine } from '../lib/bootstrap/create-engine';
import { containerRunHandler } from '../lib/handlers/container-run';
import { ServiceName } from '../lib/engine/telemetry';
import { loadConfig } from '../lib/settings/config';
import { registry } from '#registry';

const engine = createEngine(loadConfig(process.env), { serviceName: ServiceName.ContainerRun, runners: registry });
try {
  await containerRunHandler(engine)(process.env);
  process.exit(0);
} catch (error) {
  engine.logger.error('container run failed', { error });
  process.exit(1);
}
