/** Runs a system runner (work that belongs to no transient) with the context the runner API promises. */
import { randomUUID } from 'node:crypto';
import { toCounts } from '../domain/counts';
import { ConfigError } from '../domain/errors';
import { MAX_CLOCK_SKEW_MS } from '../domain/time';
import { runnerLabel } from '../domain/validation';
import { processingStatus } from '../domain/workflow';
import { type ScratchStore, SystemCapability, type SystemTaskContext, type SystemTaskRunner, isTransientRunner } from '../runner';
import type { Engine } from './engine';
import { recountTransients } from './counts';
import { recoverStalledTransients } from './operations';
import { ingestTransients } from './ingest';
import { upsertTransients } from './upsert';
import { pruneArtifacts } from './prune-artifacts';

/** Where a system runner's secrets come from (lib/secrets/secret-source.ts: Secrets Manager by ARN, else the environment). */
export interface SecretSource {
  /** The values of `keys` in the secret `name`; keys it lacks are left out. */
  read(name: string, keys: readonly string[]): Promise<Record<string, string>>;
}

/** What system runners reach beyond the table and queues; built once per container from the configuration. */
export interface SystemServices {
  readonly secrets: SecretSource;
  /** Undefined when SCRATCH_LOCATION is not set. */
  readonly scratch?: ScratchStore;
  /**
   * Aborted when the functions are being shut down (the local runtime stopping): a run then wraps up as when its
   * function's timeout approaches, instead of holding the shutdown up. Lambda has none.
   */
  readonly shutdown?: AbortSignal;
}

export interface SystemRunResult {
  readonly task: string;
  /** The previous run still held the runner's lock, so this one did nothing. */
  readonly skipped: boolean;
}

/** Slack added to a run's lock beyond the function timeout (Lambda stops the run by then). */
const LOCK_SLACK_MS = 30_000;

/** The context a system runner's `process` receives (tests build one to call the runners' functions directly). */
export const systemTaskContext = (engine: Engine, runner: SystemTaskRunner, services: SystemServices, signal: AbortSignal): SystemTaskContext => {
  const task = runner.taskName;
  // The stack grants a system runner's function only what its declaration names (lib/constructs/system-access.ts).
  const declared = (capability: SystemCapability, method: string) => {
    if (!runner.uses.includes(capability)) {
      throw new ConfigError(`${runnerLabel(runner)} calls context.${method} but does not declare "${capability}" in uses, so the stack grants it no access`);
    }
  };
  return {
    signal,
    logger: engine.logger.createChild({ persistentKeys: { task } }),
    now: () => engine.clock(),
    ingest: async (transients) => {
      declared(SystemCapability.Ingest, 'ingest');
      return ingestTransients(engine, transients, { announce: true });
    },
    upsert: async (transients, options) => {
      declared(SystemCapability.Upsert, 'upsert');
      return upsertTransients(engine, transients, { announce: options?.announce ?? true });
    },
    counts: async () => {
      declared(SystemCapability.Counts, 'counts');
      return toCounts(await engine.store.counters.read());
    },
    recoverStalled: async () => {
      declared(SystemCapability.Recover, 'recoverStalled');
      return recoverStalledTransients(engine);
    },
    recount: async () => {
      declared(SystemCapability.Recount, 'recount');
      const { before, counted, repaired, busy } = await recountTransients(engine, { signal });
      return { before, counted, repaired, busy };
    },
    processingStatuses: async (names) => {
      declared(SystemCapability.ProcessingStatuses, 'processingStatuses');
      return new Map((await engine.store.transients.getMany(names)).map((record) => [record.transient.name, processingStatus(engine.workflow, record.registers)]));
    },
    pruneArtifacts: async () => {
      declared(SystemCapability.PruneArtifacts, 'pruneArtifacts');
      const report = await pruneArtifacts(engine, signal, (failure) => engine.logger.warn('artifact not deleted', { task, ...failure }));
      return report;
    },
    metric: (name, value, unit) => engine.metrics.add(task, name, value, unit),
    secret: (name, keys) => {
      if (!runner.secretNames.includes(name)) {
        throw new ConfigError(`${runnerLabel(runner)} reads secret "${name}" but does not declare it in secretNames, so the stack grants no access to it`);
      }
      return services.secrets.read(name, keys);
    },
    scratch: () => {
      if (runner.scratchAccess.length === 0) {
        throw new ConfigError(`${runnerLabel(runner)} uses the scratch data but declares no scratchAccess, so the stack grants none`);
      }
      if (!services.scratch) throw new ConfigError('SCRATCH_LOCATION is not set: the scratch data has no place (s3://bucket/prefix/ or a directory)');
      return services.scratch;
    },
    readState: async () => {
      declared(SystemCapability.State, 'readState');
      return engine.store.systemState.read(task);
    },
    writeState: async (state) => {
      declared(SystemCapability.State, 'writeState');
      await engine.store.systemState.write(task, state, engine.clock());
    },
  };
};

/**
 * One scheduled run. At most one run of a runner goes at a time (Blast kept a lock around TNS ingestion
 * so as not to exceed TNS's rate limits): a run that finds the previous one still going does nothing.
 */
export const runSystemTask = async (
  engine: Engine,
  task: string,
  { deadline, services }: { deadline: number; services: SystemServices },
): Promise<SystemRunResult> => {
  const runner = engine.runners.get(task);
  if (!runner || isTransientRunner(runner)) throw new ConfigError(`the schedule names "${task}", which is not a registered system runner`);
  const owner = randomUUID();
  const logger = engine.logger.createChild({ persistentKeys: { task } });
  const now = engine.clock();
  const lease = { until: now + runner.timeoutSeconds * 1000 + LOCK_SLACK_MS, expiredBefore: now - MAX_CLOCK_SKEW_MS };
  if (!(await engine.store.locks.acquire(task, owner, lease))) {
    logger.info('the previous run is still going; skipped');
    return { task, skipped: true };
  }
  const abort = new AbortController();
  // Long runs (a daily file) need time to finish the batches in flight and write their checkpoint.
  const margin = Math.max(1_000, runner.timeoutSeconds * 100);
  const timer = setTimeout(() => abort.abort(new Error('function timeout approaching')), Math.max(0, deadline - engine.clock() - margin));
  // A run that never returns must not keep its process alive for it.
  timer.unref();
  const started = engine.clock();
  try {
    const signal = services.shutdown ? AbortSignal.any([abort.signal, services.shutdown]) : abort.signal;
    await runner.process(systemTaskContext(engine, runner, services, signal));
    logger.info('system task finished', { duration: engine.clock() - started });
    return { task, skipped: false };
  } finally {
    clearTimeout(timer);
    await engine.store.locks.release(task, owner);
  }
};
