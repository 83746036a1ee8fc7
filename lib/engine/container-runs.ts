/**
 * The port through which the worker starts a run in a container (a runner with `compute: 'container'`): it has
 * claimed the task, and hands the claim over with what the run needs to hold it (its token) and to keep its SQS
 * message in flight (the receipt handle). Implemented over ECS RunTask (lib/container/ecs-container-runs.ts) in AWS
 * and over child processes here (lib/local/container-runs.ts); the run itself is lib/engine/container-run.ts.
 */
import { z } from 'zod';
import { ConfigError } from '../domain/errors';

/** What a container run is given: the claim it holds and the delivery whose message it keeps. */
export interface ContainerRun {
  readonly task: string;
  /** The transient's name. */
  readonly transient: string;
  /** The claim token: every write of the run is conditioned on it. */
  readonly token: string;
  /** The delivery's receive count (1 for the first). */
  readonly attempt: number;
  readonly messageId: string;
  /** Of the delivery that claimed: the run changes its message's visibility and deletes it with this. */
  readonly receiptHandle: string;
  /** The register's generation, as the message carried it. */
  readonly generation: number;
  /** Epoch ms of the claim: the run's timeout counts from it. */
  readonly claimedAt: number;
}

export interface ContainerRuns {
  /** Starts the run; throws if it could not be started (nothing else is then running under its claim). */
  start(run: ContainerRun): Promise<void>;
}

const containerRunSchema = z.strictObject({
  task: z.string().min(1),
  transient: z.string().min(1),
  token: z.string().min(1),
  attempt: z.number().int().min(1),
  messageId: z.string().min(1),
  receiptHandle: z.string().min(1),
  generation: z.number().int().min(0),
  claimedAt: z.number().int().min(0),
});

/** The run a container was started for, from the environment variable its starter set. */
export const parseContainerRun = (text: string | undefined, variable: string): ContainerRun => {
  if (!text) throw new ConfigError(`${variable} is not set: a container run needs the claim it was started for`);
  try {
    return containerRunSchema.parse(JSON.parse(text));
  } catch (cause) {
    throw new ConfigError(`${variable} is not a container run's description`, { cause });
  }
};
