/** Runs a system runner (work that belongs to no transient) with the context the runner API promises. */
import { ConfigError } from '../domain/errors';
import { type SystemTaskContext, isTransientRunner } from '../runner';
import type { Engine } from './engine';
import { ingestTransients } from './ingest';

export const runSystemTask = async (engine: Engine, task: string, { deadline }: { deadline: number }): Promise<void> => {
  const runner = engine.runners.get(task);
  if (!runner || isTransientRunner(runner)) throw new ConfigError(`the schedule names "${task}", which is not a registered system runner`);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error('function timeout approaching')), Math.max(0, deadline - engine.clock() - 1_000));
  const logger = engine.logger.createChild({ persistentKeys: { task } });
  const context: SystemTaskContext = {
    signal: abort.signal,
    logger,
    ingest: (transients) => ingestTransients(engine, transients, { announce: true }),
  };
  const started = engine.clock();
  try {
    await runner.process(context);
    logger.info('system task finished', { duration: engine.clock() - started });
  } finally {
    clearTimeout(timer);
  }
};
