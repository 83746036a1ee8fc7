/**
 * What the handlers share: the validated workflow, the runners by task, the store, the queues, a clock,
 * the logger and the metrics. Handlers build one per container; tests and the local runtime build theirs
 * the same way, only with other clients.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Workflow } from '../domain/workflow';
import { type AnyRunner, type TransientTaskRunner, isTransientRunner } from '../runner';
import type { ArtifactStore } from './artifacts';
import type { TaskQueues } from './queues';
import type { QueueDepths } from './queue-depths';
import type { RunnerFunctions } from './runner-functions';
import type { ContainerRuns } from './container-runs';
import type { TaskStore } from './store';
import type { TaskMetrics } from './telemetry';

export interface Engine {
  readonly workflow: Workflow;
  readonly runners: ReadonlyMap<string, AnyRunner>;
  readonly store: TaskStore;
  readonly queues: TaskQueues;
  readonly clock: () => number;
  readonly logger: Logger;
  readonly metrics: TaskMetrics;
  /** First retry delay after a runner exception; doubles per attempt, jittered. */
  readonly retryBaseSeconds: number;
  /** Runs the runners whose code runs in a function of its own (Python); absent where none is registered. */
  readonly functions?: RunnerFunctions;
  /** Starts the runs of runners with `compute: 'container'`; absent where none is registered. */
  readonly containers?: ContainerRuns;
  /** Runs' artifacts (ARTIFACT_LOCATION); absent where none is configured, and then a run's `artifacts` refuse. */
  readonly artifacts?: ArtifactStore;
  /** Days a run-history record is kept (HISTORY_RETENTION_DAYS). @default DEFAULT_HISTORY_RETENTION_DAYS */
  readonly historyRetentionDays?: number;
  /**
   * How full the runners' queues are: the dispatcher sends only what keeps each one shallow (lib/engine/dispatch.ts).
   * Absent (tests of other rules), it sends everything ready.
   */
  readonly queueDepths?: QueueDepths;
}

export const transientRunner = (engine: Engine, task: string): TransientTaskRunner | undefined => {
  const runner = engine.runners.get(task);
  return runner && isTransientRunner(runner) ? runner : undefined;
};

export const runnersByTask = (runners: readonly AnyRunner[]): ReadonlyMap<string, AnyRunner> =>
  new Map(runners.map((runner) => [runner.taskName, runner]));
