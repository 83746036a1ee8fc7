/**
 * The port through which the engine runs a runner whose code runs in a function of its own (a Python runner):
 * it has claimed the task, it sends the transient, it gets back the status message, and it settles as for any
 * runner. Implemented over Lambda's Invoke (lib/python/lambda-functions.ts), in AWS and, against the local
 * runtime's stand-in for Lambda's Python runtime (lib/local/python-functions.ts), here.
 */
import type { Artifact } from '../domain/artifacts';
import type { Transient } from '../runner';

/** An upstream task's output as a run's function receives it: the data, or the artifact it went to when too large for an item. */
export type EventOutput = { readonly data: Record<string, unknown> } | { readonly spilled: Artifact };

/** What a runner's function receives (python/blast_tasks/lambda_handler.py). */
export interface RunEvent {
  readonly transient: Transient;
  /** 1 for the first delivery. */
  readonly attempt: number;
  /** The claim token of this run. */
  readonly runId: string;
  /** The outputs of the runs that the registers of the task's upstream tasks hold (`self.context.output`). */
  readonly outputs?: Readonly<Record<string, EventOutput>>;
  /** Where the run's artifacts go, and the artifacts of the upstream tasks' current runs (`self.context.artifacts`). */
  readonly artifacts?: {
    /** `s3://bucket/prefix/` or a directory (ARTIFACT_LOCATION). */
    readonly location: string;
    /** This run's key prefix under the location; the function writes `<prefix><name>` and nothing else. */
    readonly prefix: string;
    /** Upstream task → the artifacts of its current run. */
    readonly upstream: Readonly<Record<string, readonly Artifact[]>>;
  };
}

/** What a runner's function returns: its status message, and what it saved and put (checked by the caller). */
export interface RunResult {
  readonly status: unknown;
  readonly output?: unknown;
  readonly artifacts?: unknown;
}

export interface RunnerFunctions {
  /**
   * Runs one transient through `task`'s function and returns what it returned (checked by the caller).
   * Throws the run's own error (its type and message) when the function failed; a run past its function's timeout
   * fails as {@link FUNCTION_TIMED_OUT}.
   */
  run(task: string, event: RunEvent): Promise<RunResult>;
}

/** The error type Lambda gives a run its function stopped at its timeout. */
export const FUNCTION_TIMED_OUT = 'Sandbox.Timedout';

/** The error type of a failure the runner says no retry can fix (blast_tasks.NonRetryableTaskError): recorded at once. */
export const NON_RETRYABLE = 'NonRetryableTaskError';

/** A run that failed inside a runner's function: named after the error the function raised (e.g. `ValueError`). */
export class RunnerFunctionError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
    this.name = errorType;
  }
}
