/** How full a runner's queues are, as the web view shows it: the port lib/queue/queue-depths.ts implements on SQS. */

/** SQS's approximate counts of one queue. */
export interface QueueDepth {
  /** Messages waiting to be received. */
  readonly visible: number;
  /** Messages received and not yet deleted (runs in progress, retries waiting out their backoff). */
  readonly inFlight: number;
  /** Messages sent with a delay that has not passed. */
  readonly delayed: number;
}

export interface QueueDepths {
  /** The depths of a task's queue and of its dead-letter queue; a queue this reader does not know is left out. */
  of(task: string): Promise<{ readonly queue?: QueueDepth; readonly deadLetterQueue?: QueueDepth }>;
}
