/**
 * What AWS accepts, written once: the registry's validation (lib/domain/validation.ts) reports a runner that
 * breaks one of these, and the constructs refuse to synthesize one.
 */

/** Bounds of the settings, as Lambda, SQS and EventBridge accept them. */
export const settingBounds = {
  memorySize: [128, 10240],
  timeoutSeconds: [1, 900],
  batchSize: [1, 10],
  maxConcurrency: [2, 1000],
  maxReceiveCount: [1, 1000],
  readyShards: [1, 100],
} as const;

/** How long run-history records are kept by default (DynamoDB's TTL deletes them after): Step Functions keeps 90 days. */
export const DEFAULT_HISTORY_RETENTION_DAYS = 90;

/** EventBridge rate expressions take whole minutes: 60, 120, ... seconds. */
export const isScheduleRate = (seconds: number): boolean => Number.isInteger(seconds) && seconds >= 60 && seconds % 60 === 0;

/** Secrets Manager's rule for secret names. */
export const isSecretName = (name: unknown): name is string => typeof name === 'string' && /^[\w/+=.@-]{1,512}$/.test(name);

/** A name ending in a hyphen and six characters, which Secrets Manager would read as the random suffix of a full ARN. */
export const looksLikeArnSuffix = (name: string): boolean => /-[A-Za-z0-9]{6}$/.test(name);

/**
 * Characters a runner's task name may not hold: `#` separates the parts of the table's keys, and `*`, `?` and
 * `$` are IAM's pattern characters (each function's grants name the tasks whose items it may reach).
 */
export const TASK_NAME_RESERVED = ['#', '*', '?', '$'] as const;
export const reservedInTaskName = (name: string): string[] => TASK_NAME_RESERVED.filter((character) => name.includes(character));

/**
 * How much longer a Python runner's worker may run than the runner's own function (its `timeout_seconds`): Lambda's
 * init of the function (up to 10 s) and the call's round trip, so the worker outlives the run it waits for and sees
 * a timeout as one.
 */
export const PYTHON_WORKER_MARGIN_SECONDS = 15;
