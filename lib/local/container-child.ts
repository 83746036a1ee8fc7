/**
 * A container run as a child process (lib/local/container-runs.ts): the same handler as the Fargate task's entry
 * (functions/container-run.ts), over the runners of the module BLAST_RUNNERS_MODULE names, then exit. A Python
 * runner's `_run_process` runs in a Python process beside it (lib/local/python-server.ts), as in the Python
 * container of its Fargate task; it ends with this process, which ends when the runtime that started it goes.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createEngine } from '../bootstrap/create-engine';
import { ConfigError } from '../domain/errors';
import { parseContainerRun } from '../engine/container-runs';
import { ServiceName } from '../engine/telemetry';
import { containerRunHandler } from '../handlers/container-run';
import { type AnyRunner, isPythonRunner } from '../runner';
import { ENV, loadConfig } from '../settings/config';
import { RUNNERS_MODULE_ENV } from './container-runs';
import { CONTAINER_FUNCTION_NAME } from '../python/container-server';
import { startPythonServer } from './python-server';

const loadRunners = async (spec: string | undefined): Promise<readonly AnyRunner[]> => {
  const [path, name = 'registry'] = (spec ?? '').split('#');
  if (!path) throw new ConfigError(`${RUNNERS_MODULE_ENV} is not set: a container run needs the module of its runners`);
  const loaded = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  const runners = loaded[name];
  if (!Array.isArray(runners)) throw new ConfigError(`${spec ?? ''}: the export "${name}" is not a list of runners`);
  return runners as readonly AnyRunner[];
};

// The runtime that started this run is gone (its IPC channel closed, even on SIGKILL): stop, as a cluster's task would.
process.on('disconnect', () => process.exit(1));
if (!process.connected) {
  console.error('a container run is started by the local runtime (lib/local/container-runs.ts), with an IPC channel to it');
  process.exit(1);
}

try {
  const runners = await loadRunners(process.env[RUNNERS_MODULE_ENV]);
  const { task } = parseContainerRun(process.env[ENV.containerRun], ENV.containerRun);
  const python = runners.filter(isPythonRunner).find((runner) => runner.taskName === task);
  if (python) {
    const server = await startPythonServer(python, process.env);
    process.once('exit', () => server.kill());
    // The environment the Fargate task gives its run container (lib/constructs/container-runner.ts).
    Object.assign(process.env, { AWS_ENDPOINT_URL_LAMBDA: server.endpoint, [ENV.runnerFunctions]: JSON.stringify({ [task]: CONTAINER_FUNCTION_NAME }) });
  }
  const engine = createEngine(loadConfig(process.env), { serviceName: ServiceName.ContainerRun, runners });
  await containerRunHandler(engine)(process.env);
  process.exit(0);
} catch (error) {
  console.error('container run failed', error);
  process.exit(1);
}
