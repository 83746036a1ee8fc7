/**
 * Where wall-clock time still decides something, and the clock skew between hosts that the engine tolerates.
 * Fencing never depends on time: a run's writes are conditioned on its claim token. Time decides only when a
 * run or a lock holder is presumed dead, and each such decision keeps at least this margin.
 */

/**
 * The largest difference between the clocks of any two hosts (Lambda containers, the CLI's machine) that the
 * engine tolerates. Lambda's hosts are kept by Amazon Time Sync to well under a millisecond; an operator's
 * machine synchronised by NTP is within tens of milliseconds.
 */
export const MAX_CLOCK_SKEW_MS = 5_000;

/**
 * A counter update lands within this long of the write that moved its transient's bucket, or never: it is sent
 * right after that write and retried only after throttling (at most 5 attempts, each cut off after 10 s). The
 * recount waits this long before it trusts a difference between the counters and the index, so that it never
 * repairs a move whose update is still on its way (which would then be counted twice).
 */
export const COUNTER_UPDATE_MAX_DELAY_MS = 90_000;

/**
 * `retrigger` treats a "processing" register as a dead run only when its lease ended this long ago by the
 * caller's clock, so a caller whose clock runs up to this much fast never resets a live run. Dead runs are
 * recovered long before that without an operator (SQS redelivery, then the dead-letter handler); this is the
 * repair for the rare register that outlived both.
 */
export const STALE_RUN_MS = 15 * 60_000;

/**
 * How long after its retry time a waiting retry's message may take to come back (SQS makes it visible then; a
 * backlog may hold it a while) before the recovery sweep takes the retry for lost (its message deleted).
 */
export const RETRY_RETURN_GRACE_MS = 10 * 60_000;

/** AWS's advice: a queue's visibility timeout at least six times its consumer function's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/**
 * And long enough, past the function's timeout, that a redelivered message finds its dead run's lease over
 * whatever the clocks: the lease has the tolerated skew added, and the redelivering host may be that much behind.
 */
export const minimumVisibilitySeconds = (timeoutSeconds: number) => timeoutSeconds + Math.ceil((3 * MAX_CLOCK_SKEW_MS) / 1000);
/** A runner's queue's visibility timeout: when SQS delivers a message again whose run neither deleted nor delayed it. */
export const visibilityTimeoutSeconds = (timeoutSeconds: number) =>
  Math.min(43_200, Math.max(VISIBILITY_TIMEOUT_FACTOR * timeoutSeconds, minimumVisibilitySeconds(timeoutSeconds)));
