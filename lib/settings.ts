/** Settings of the framework's own functions, shared by the stack and the local runtime. */
export const dispatcherSettings = { timeoutSeconds: 300, memorySize: 512 } as const;
export const deadLetterSettings = { timeoutSeconds: 60, memorySize: 256, batchSize: 10, maxConcurrency: 2 } as const;
/** Dead-letter queues are checked as often as the most frequent schedule may run. */
export const DEAD_LETTER_FUNCTION = 'dead-letter';
