/** Settings of the framework's own functions, shared by the stack and the local runtime. */
export const dispatcherSettings = { timeoutSeconds: 300, memorySize: 512 } as const;
/**
 * The dead-letter handler. `maxReceiveCount`: deliveries of a dead letter before it goes to the dead-letter
 * failures queue, so that a message the handler cannot record never loops (it waits there, with the handler's
 * reason in its logs, for an operator).
 */
export const deadLetterSettings = { timeoutSeconds: 60, memorySize: 256, batchSize: 10, maxConcurrency: 2, maxReceiveCount: 5 } as const;
/** The queue the dead-letter queues send what the handler could not record to (one per deployment). */
export const DEAD_LETTER_FAILURES_QUEUE = 'dead-letter-failures';
/** Dead-letter queues are checked as often as the most frequent schedule may run. */
export const DEAD_LETTER_FUNCTION = 'dead-letter';
