/**
 * The entry of a container run (functions/container-run.ts in AWS, lib/local/container-child.ts here): reads the
 * run its starter put in the environment, runs it to its end (lib/engine/container-run.ts) and flushes its
 * metrics. The caller exits the process after it, which also stops whatever the runner left going.
 */
import type { Engine } from '../engine/engine';
import { type ContainerRunEnd, runInContainer } from '../engine/container-run';
import { parseContainerRun } from '../engine/container-runs';
import { ENV } from '../settings/config';

export const containerRunHandler =
  (engine: Engine) =>
  async (env: NodeJS.ProcessEnv): Promise<ContainerRunEnd> => {
    const run = parseContainerRun(env[ENV.containerRun], ENV.containerRun);
    try {
      const ended = await runInContainer(engine, run, engine.logger);
      engine.logger.info('container run ended', { task: run.task, transient: run.transient, attempt: run.attempt, ended });
      return ended;
    } finally {
      engine.metrics.publish();
    }
  };
