/**
 * A container run as a child process (lib/local/container-runs.ts): the same handler as the Fargate task's entry
 * (functions/container-run.ts), over the runners of the module BLAST_RUNNERS_MODULE names, then exit.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createEngine } from '../bootstrap/create-engine';
import { ConfigError } from '../domain/errors';
import { ServiceName } from '../engine/telemetry';
import { containerRunHandler } from '../handlers/container-run';
import type { AnyRunner } from '../runner';
import { loadConfig } from '../settings/config';
import { RUNNERS_MODULE_ENV } from './container-runs';

const loadRunners = async (spec: string | undefined): Promise<readonly AnyRunner[]> => {
  const [path, name = 'registry'] = (spec ?? '').split('#');
  if (!path) throw new ConfigError(`${RUNNERS_MODULE_ENV} is not set: a container run needs the module of its runners`);
  const loaded = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  const runners = loaded[name];
  if (!Array.isArray(runners)) throw new ConfigError(`${spec ?? ''}: the export "${name}" is not a list of runners`);
  return runners as readonly AnyRunner[];
};

try {
  const runners = await loadRunners(process.env[RUNNERS_MODULE_ENV]);
  const engine = createEngine(loadConfig(process.env), { serviceName: ServiceName.ContainerRun, runners });
  await containerRunHandler(engine)(process.env);
  process.exit(0);
} catch (error) {
  console.error('container run failed', error);
  process.exit(1);
}
