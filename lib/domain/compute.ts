/**
 * Where a transient runner's `process` runs. In the worker's own Lambda function (up to Lambda's 15 minutes), or,
 * for longer work, in a container of its own (ECS Fargate in AWS, a child process here) that the worker starts
 * once it has claimed the task. A container run keeps its claim alive by heartbeats: each one moves its lease
 * and hides its SQS message a while longer, so that a run that stops heartbeating (killed, its host gone) is
 * taken over by the message's next delivery, as a Lambda run that timed out is.
 */
import { MAX_CLOCK_SKEW_MS, minimumVisibilitySeconds } from './time';

export const Compute = {
  /** In the worker's Lambda function: `timeoutSeconds` is that function's (at most 900). */
  Lambda: 'lambda',
  /** In a container the worker starts: `timeoutSeconds` is the run's, up to MAX_CONTAINER_TIMEOUT_SECONDS. */
  Container: 'container',
} as const;
export type Compute = (typeof Compute)[keyof typeof Compute];
export const computeKinds: readonly Compute[] = Object.values(Compute);

/** A container run's lease lasts this many heartbeat periods from each heartbeat: two may fail before it is lost. */
export const LEASE_HEARTBEATS = 3;

/** How long a container run's claim, or a heartbeat, holds the task: a host up to the tolerated skew behind still waits it out. */
export const containerLeaseMs = (heartbeatSeconds: number): number => LEASE_HEARTBEATS * heartbeatSeconds * 1000 + MAX_CLOCK_SKEW_MS;

/**
 * The visibility its message is given at the claim and at each heartbeat: it comes back only once the lease has
 * ended on any clock, so that its next delivery takes a dead run over instead of being refused.
 */
export const containerVisibilitySeconds = (heartbeatSeconds: number): number => minimumVisibilitySeconds(LEASE_HEARTBEATS * heartbeatSeconds);

/** The worker of a container runner only claims and starts the run: its function's timeout. */
export const CONTAINER_WORKER_TIMEOUT_SECONDS = 60;
/** Its memory (the runner's `memorySize` is the container's). */
export const CONTAINER_WORKER_MEMORY_MB = 512;

/**
 * The longest container run. SQS keeps a received message in flight at most 12 hours in all (a visibility change
 * past that is refused), and the message is what brings a dead run back; an hour of it is left for the container's
 * start, the last heartbeat's window and the settle.
 */
export const MAX_CONTAINER_TIMEOUT_SECONDS = 11 * 3600;

/** The heartbeat periods a runner may declare: at least a second, and short enough that a lease fits in a run. */
export const HEARTBEAT_BOUNDS = [1, 600] as const;

/**
 * Fargate's CPU for a memory size: the smallest CPU that takes it (Fargate accepts only some pairs), or undefined
 * for a memory size no Fargate task can have.
 */
export const fargateCpuFor = (memoryMb: number): number | undefined => {
  const gb = memoryMb / 1024;
  if (memoryMb === 512 || (Number.isInteger(gb) && gb >= 1 && gb <= 2)) return 256;
  if (Number.isInteger(gb) && gb >= 1 && gb <= 4) return 512;
  if (Number.isInteger(gb) && gb >= 2 && gb <= 8) return 1024;
  if (Number.isInteger(gb) && gb >= 4 && gb <= 16) return 2048;
  if (Number.isInteger(gb) && gb >= 8 && gb <= 30) return 4096;
  return undefined;
};
