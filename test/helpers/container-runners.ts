/**
 * Runners whose runs happen in a container (compute: 'container'), for the tests of the container protocol. The
 * local runtime's children load this module themselves (BLAST_RUNNERS_MODULE), as a Fargate task loads its bundle.
 * "Long" writes a start file per run (its attempt and process id) and works until the test releases its transient
 * (a file appears): how long it runs is the test's to decide, not a sleep's. "Chained" follows it, in Lambda.
 * `pythonContainerRunners` has the same "Long" written in Python (test/helpers/python/long_runner.py).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Compute } from '../../lib/domain/compute';
import { describePythonRunners } from '../../lib/python/declarations';
import { PythonTransientRunner } from '../../lib/runner';
import { runner } from './factories';

/** The folder of start and release files (set by the test in the runtime's environment). */
export const CONTAINER_TEST_DIR = 'CONTAINER_TEST_DIR';
export const HEARTBEAT_SECONDS = 1;

export const startedFile = (dir: string, transient: string, attempt: number) => join(dir, `${transient}.${attempt}.started`);
export const releaseFile = (dir: string, transient: string) => join(dir, `${transient}.release`);

const untilReleased = async (dir: string, transient: string, signal: AbortSignal) => {
  while (!existsSync(releaseFile(dir, transient))) {
    if (signal.aborted) throw new Error('aborted before release');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

export const containerRunners = [
  runner(
    'Long',
    {},
    {
      settings: { compute: Compute.Container, heartbeatSeconds: HEARTBEAT_SECONDS, timeoutSeconds: 600, maxReceiveCount: 2 },
      process: async (transient, context) => {
        const dir = process.env[CONTAINER_TEST_DIR] ?? '';
        writeFileSync(startedFile(dir, transient.name, context.attempt), JSON.stringify({ pid: process.pid, runId: context.runId }));
        await untilReleased(dir, transient.name, context.signal);
        await context.save({ attempt: context.attempt, pid: process.pid });
        return 'processed';
      },
    },
  ),
  runner('Chained', { Long: 'processed' }),
];

/** The Python "Long" (its declaration read from the class, as `npm run generate` reads the registry's). */
export const PYTHON_LONG_FILE = 'test/helpers/python/long_runner.py';
export const pythonContainerRunners = [
  ...describePythonRunners([PYTHON_LONG_FILE]).map((declared) => new PythonTransientRunner(declared)),
  runner('Chained', { Long: 'processed' }),
];
