/**
 * The container port here: each run is a child process of its own (lib/local/container-child.ts, run with tsx), with
 * the same contract as a Fargate task: the run in BLAST_CONTAINER_RUN, the endpoints, table and queues in the
 * environment the handlers have, and nothing shared with the worker that started it. A child can be killed like a
 * Fargate task (SIGKILL runs no `finally`); its message then comes back once its lease has ended. A child never outlives
 * the runtime that started it, as no task outlives its cluster: it stops when the runtime's process goes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ContainerRun, ContainerRuns } from '../engine/container-runs';
import { ENV } from '../settings/config';

/** Names the module and export that hold the runners, for a child: `path/to/module.ts#exportName`. */
export const RUNNERS_MODULE_ENV = 'BLAST_RUNNERS_MODULE';
/** The project's registry, which `npm start` runs. */
export const DEFAULT_RUNNERS_MODULE = 'runners/registry.ts#registry';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD_ENTRY = fileURLToPath(new URL('./container-child.ts', import.meta.url));

/** A run going on in a child process. */
export interface LocalContainerRun {
  readonly run: ContainerRun;
  readonly pid: number;
}

export interface LocalContainerRuns extends ContainerRuns {
  /** The runs going on now. */
  running(): readonly LocalContainerRun[];
  /** Kills every child (and what it started), as stopping a cluster would. */
  stop(): Promise<void>;
}

export interface LocalContainerOptions {
  /** `module#export` of the runners the children load (the same runners as the handlers'). */
  readonly runnersModule: string;
  /** Where the children's output goes. */
  readonly log: (line: string) => void;
  /** Called when a child exits, with its exit code or the signal that ended it. */
  readonly onExit?: (run: ContainerRun, code: number | null, signal: NodeJS.Signals | null) => void;
}

export const localContainerRuns = (options: LocalContainerOptions): LocalContainerRuns => {
  const children = new Map<ChildProcess, ContainerRun>();
  let stopped = false;
  return {
    async start(run) {
      if (stopped) throw new Error('the local runtime is stopping');
      // The environment the handlers run with (the runtime set it), as a task definition's plus RunTask's overrides.
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD_ENTRY], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, [ENV.containerRun]: JSON.stringify(run), [RUNNERS_MODULE_ENV]: options.runnersModule },
        // The IPC channel closes when this process goes, however it goes (SIGKILL included): the child then stops.
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        detached: true,
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      children.set(child, run);
      const prefix = `[container ${run.task} ${run.transient} #${run.attempt}]`;
      for (const stream of [child.stdout, child.stderr]) if (stream) createInterface({ input: stream }).on('line', (line) => options.log(`${prefix} ${line}`));
      child.once('exit', (code, signal) => {
        children.delete(child);
        options.onExit?.(run, code, signal);
      });
    },
    running: () => [...children].flatMap(([child, run]) => (child.pid === undefined ? [] : [{ run, pid: child.pid }])),
    async stop() {
      stopped = true;
      const exits = [...children.keys()].map((child) => new Promise((resolve) => child.once('exit', resolve)));
      for (const child of children.keys()) {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await Promise.all(exits);
    },
  };
};
