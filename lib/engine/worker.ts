/**
 * One SQS delivery for a transient runner: claim → process → record the status → send what became ready.
 * Every delivery may be a duplicate, late or a redelivery after a crash; the claim decides which run
 * may work, and only the run holding the claim may record the result.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { Status, StatusType, isFinalType, statusTypeOf } from '../domain/catalog';
import { bucketOfRegisters } from '../domain/counts';
import { NonRetryableTaskError, PoisonMessageError, TaskRunnerError, coerceError } from '../domain/errors';
import { parseTaskMessage } from '../domain/messages';
import { artifactUseOf } from '../domain/declaration';
import { MAX_CLOCK_SKEW_MS } from '../domain/time';
import { type Register, isReady, messageOfClaim } from '../domain/workflow';
import { type TaskContext, type TaskLogger, type TransientTaskRunner, isPythonRunner } from '../runner';
import type { TransientRecord } from './store';
import { Metric, withKeys } from './telemetry';
import { type Engine, transientRunner } from './engine';
import { FUNCTION_TIMED_OUT, NON_RETRYABLE, type RunEvent, RunnerFunctionError } from './runner-functions';
import type { ContainerRun } from './container-runs';
import { Compute, containerLeaseMs, containerVisibilitySeconds } from '../domain/compute';
import { type RunRecorder, reportedResults, runEventOf, runRecorder } from './run-outputs';
import { afterSettle, announce, randomId, recordBucket } from './transitions';
import type { Invocation } from './store';
import { provenanceOf, recordAttempt, recordLostAttempts, recordSettledAttempt } from './attempts';

/** What the worker needs of an SQS record. */
export interface Delivery {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** SQS ApproximateReceiveCount: 1 on the first delivery. */
  readonly receiveCount: number;
  /** ARN of the queue it came from (the record's eventSourceARN). */
  readonly source?: string;
}

/** The delivery must come back later; the record is reported as a batch item failure. */
export class RetryLaterError extends TaskRunnerError {}

/**
 * The run was handed over to a container: the record is reported as not finished, so that its message stays in
 * flight (the container run keeps it hidden by its heartbeats, and deletes it once it has settled). If the run
 * dies, the message comes back and its next delivery takes the task over.
 */
export class HandedOverError extends RetryLaterError {}

/**
 * A run that ends after its function's deadline: Lambda would have killed it, so it records nothing and its
 * message comes back once the lease has expired. (The local runtime cannot kill a run, so the rule is checked.)
 */
export class DeadlinePassedError extends TaskRunnerError {}

const assertBeforeDeadline = (engine: Engine, deadline: number, what: string) => {
  if (engine.clock() > deadline) throw new DeadlinePassedError(`${what} after the function's timeout; nothing recorded`);
};

const MAX_ERROR_LENGTH = 500;
const MAX_RETRY_DELAY_SECONDS = 900;

/**
 * A claim token, made once per invocation of a delivery: the message (so that a redelivery, a waiting retry and
 * the dead-letter handler know their own message's work) and 32 random bits (so that two invocations of the
 * identical SQS record never share it). The SDK's retries of one call resend the same token.
 */
export const claimToken = (delivery: Pick<Delivery, 'messageId'>) => `${delivery.messageId.slice(0, 8)}.${randomId(4)}`;
/** Whether a register's claim was made by a delivery of this message (any attempt, any invocation). */
export const sameMessage = (claim: string | undefined, delivery: Pick<Delivery, 'messageId'>) =>
  claim !== undefined && messageOfClaim(claim) === delivery.messageId.slice(0, 8);

/** Exponential backoff with jitter: about base·2^(attempt-1) seconds, between half and all of it. */
export const retryDelaySeconds = (baseSeconds: number, attempt: number, random: () => number = Math.random): number => {
  const ceiling = Math.min(MAX_RETRY_DELAY_SECONDS, baseSeconds * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(ceiling * (0.5 + random() / 2)));
};

const errorText = (error: Error) => `${error.name}: ${error.message}`.slice(0, MAX_ERROR_LENGTH);

export interface WorkerOptions {
  /** Epoch ms by which the invocation must be done (Lambda: now + getRemainingTimeInMillis()). */
  readonly deadline: number;
  /** The invocation's logger; each delivery's lines carry its transient, task, attempt and message id. */
  readonly logger: Logger;
  /** The invocation (request id, log group and stream), recorded in each attempt's history. */
  readonly invocation?: Invocation;
}

/**
 * Handles one SQS record. A poison message (unreadable, an unknown runner or transient), which no retry can
 * fix, goes to its queue's dead-letter queue at once, with the reason logged, and is acknowledged, so it
 * neither fails the rest of its batch nor comes back. Where no dead-letter queue is known it is reported as
 * failed, and SQS moves it there after maxReceiveCount deliveries.
 */
export const handleDelivery = async (engine: Engine, delivery: Delivery, options: WorkerOptions): Promise<void> => {
  try {
    await processDelivery(engine, delivery, options);
  } catch (error) {
    if (!(error instanceof PoisonMessageError)) throw error;
    const task = delivery.source === undefined ? undefined : await engine.queues.deadLetter(delivery.source, delivery.body);
    options.logger.error(task ? 'poison message moved to the dead-letter queue' : 'poison message; no dead-letter queue configured, failing it', {
      reason: error.message,
      messageId: delivery.messageId,
      source: delivery.source,
    });
    if (!task) throw error;
    engine.metrics.add(task, Metric.PoisonMessages);
  }
};

/** Handles one delivery. Returns normally when the message may be deleted; throws to have it delivered again. */
export const processDelivery = async (engine: Engine, delivery: Delivery, options: WorkerOptions): Promise<void> => {
  const message = parseTaskMessage(delivery.body);
  const runner = transientRunner(engine, message.task);
  const spec = engine.workflow.specs.get(message.task);
  if (!runner || !spec) throw new PoisonMessageError(`no transient runner is registered for task "${message.task}"`);
  const { transient: name, task } = message;
  const log = withKeys(options.logger, { transient: name, task, attempt: delivery.receiveCount, messageId: delivery.messageId });

  const claimedAt = engine.clock();
  const token = claimToken(delivery);
  const generation = message.g ?? 0;
  const claim: Register = {
    status: Status.Processing,
    lastModified: claimedAt,
    attempt: delivery.receiveCount,
    claim: token,
    // Lambda stops the run by claimedAt + timeout; a host whose clock is up to MAX_CLOCK_SKEW_MS behind still
    // waits that long before it takes the task over. A container run holds it by heartbeats instead.
    leaseUntil: claimedAt + (inContainer(runner) ? containerLeaseMs(runner.heartbeatSeconds) : runner.timeoutSeconds * 1000 + MAX_CLOCK_SKEW_MS),
    generation,
  };
  const claimed = await engine.store.transients.claim(name, spec, claim, claimedAt);
  if (!claimed.ok) return refusedClaim(engine, delivery, task, generation, claimed.current, log);
  // The attempt's history record is written when it ends (settleRun). An attempt this claim took over never settled:
  // its record is written here, from the register it held.
  await recordLostAttempts(engine, claimed.record.transient, { ...claimed.record.registers, [task]: claimed.previous }, claimed.record.registers, [task], 'the next delivery', log);

  engine.metrics.add(task, Metric.Claimed);
  engine.metrics.add(task, Metric.ReadyToClaim, Math.max(0, claimedAt - message.readyAt));
  // One info line per run ('finished' or 'will retry'): each line costs CloudWatch Logs ingestion.
  log.debug('claimed', { status: Status.Processing, token });
  const notFinished = async (error: unknown): Promise<never> => {
    if (error instanceof FunctionTimedOutError || error instanceof RunNotStartedError) await comeBackAfterLease(engine, task, delivery.receiptHandle, claim, log, error);
    throw error;
  };
  if (inContainer(runner)) {
    await startInContainer(engine, runner, { task, transient: name, token, attempt: delivery.receiveCount, messageId: delivery.messageId, receiptHandle: delivery.receiptHandle, generation, claimedAt }, log).catch(notFinished);
    throw new HandedOverError('the run goes on in a container, which heartbeats, settles and deletes the message');
  }
  const outcome = await run(engine, runner, claimed.record, delivery, token, options.deadline, log).catch(notFinished);
  assertBeforeDeadline(engine, options.deadline, 'the run finished');
  const ended = await settleRun(engine, { delivery, token, generation, claim, claimedAt, record: claimed.record, outcome, ...(options.invocation ? { invocation: options.invocation } : {}) }, runner, log);
  if (ended === 'retrying') throw new RetryLaterError(`attempt ${delivery.receiveCount} failed; retrying in ${outcome.retryIn} s`);
};

/**
 * Nothing recorded: the message comes back once this run's lease has ended even on a clock that is behind (the next
 * delivery takes the task over, or the dead-letter handler records "time limit exceeded").
 */
export const comeBackAfterLease = async (engine: Engine, task: string, receiptHandle: string, claim: Register, log: TaskLogger, error: Error): Promise<void> => {
  log.warn('run not finished; its message comes back when its lease ends', { error: errorText(error) });
  const back = (claim.leaseUntil ?? 0) + 2 * MAX_CLOCK_SKEW_MS - engine.clock();
  await engine.queues.retryLater(task, receiptHandle, Math.max(1, Math.ceil(back / 1000)));
};

/** A run that ended, as the worker or a container run hands it to {@link settleRun}. */
export interface FinishedRun {
  /** The delivery whose claim the run holds: its receive count is the attempt, its receipt handle delays a retry. */
  readonly delivery: Pick<Delivery, 'receiveCount' | 'receiptHandle'>;
  readonly token: string;
  readonly generation: number;
  /** The register as claimed: the image before the run, against which what the settle makes ready is judged. */
  readonly claim: Register;
  readonly claimedAt: number;
  /** The transient as the run last wrote it: the claim's image, or a container run's last heartbeat's. */
  readonly record: TransientRecord;
  readonly outcome: Outcome;
  /** Where the run ran and logged, for its history. */
  readonly invocation?: Invocation;
}

/** How a settle ended: recorded (successors sent), a retry waiting (the message hidden until then), or the claim lost. */
export type SettleEnd = 'settled' | 'retrying' | 'dropped';

/**
 * Records a run's outcome under its claim, then sends what that made ready (or, for a failure to retry, hides the
 * message until the retry is due). The one settle of every run, whether it ran in the worker or in a container.
 */
export const settleRun = async (engine: Engine, finished: FinishedRun, runner: TransientTaskRunner, log: TaskLogger): Promise<SettleEnd> => {
  const { delivery, token, generation, claim, claimedAt, outcome } = finished;
  const { name } = finished.record.transient;
  const task = runner.taskName;
  // The end, to the register's 10 ms: its start is then exactly its end less its processing seconds, which names
  // the attempt's history record for a redelivery that finds the record missing (recordSettledAttempt).
  const duration = Math.round((engine.clock() - claimedAt) / 10) * 10;
  const finishedAt = claimedAt + duration;
  engine.metrics.add(task, Metric.Duration, duration);
  // Upstream registers do not change under a claim (a reset of one resets this task too, and the claim is lost).
  const provenance = provenanceOf(engine, runner, finished.record.transient, finished.record.registers);
  const settled: Register = {
    status: outcome.status,
    lastModified: finishedAt,
    processingSeconds: Math.round(duration / 10) / 100,
    attempt: delivery.receiveCount,
    // Kept after the run: it names the run whose result the register holds (and whose output later tasks read).
    claim: token,
    ...(outcome.error ? { lastError: outcome.error } : {}),
    ...(outcome.retryIn === undefined ? {} : { retryAt: finishedAt + outcome.retryIn * 1000 }),
    generation,
    version: provenance.version,
  };
  const before = finished.record;
  // A transient's first and last tasks write its new bucket with their result, in one write.
  const to = bucketOfRegisters(engine.workflow, { ...before.registers, [task]: settled });
  const move = outcome.retryIn === undefined && to !== before.bucket ? { from: before.bucket, to, version: before.version } : undefined;
  const result = await engine.store.transients.settle(name, task, token, settled, move);
  await recordAttempt(
    engine,
    {
      name,
      task,
      run: token,
      attempt: delivery.receiveCount,
      startedAt: claimedAt,
      endedAt: finishedAt,
      durationMs: duration,
      status: outcome.status,
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(result.ok ? {} : { recorded: false }),
      ...provenance,
      ...(finished.invocation ? { invocation: finished.invocation } : {}),
      ...(outcome.artifacts && outcome.artifacts.length > 0 ? { artifacts: outcome.artifacts } : {}),
    },
    log,
  );
  if (!result.ok) {
    engine.metrics.add(task, Metric.StaleCompletions);
    log.warn('result dropped: the claim was lost to a reset, a takeover or a deletion', { status: outcome.status, duration });
    return 'dropped';
  }
  log.info(outcome.retryIn === undefined ? 'finished' : 'will retry', {
    status: outcome.status,
    attempt: delivery.receiveCount,
    duration,
    ...(outcome.error ? { error: outcome.error } : {}),
  });
  if (outcome.retryIn !== undefined) {
    engine.metrics.add(task, Metric.Retries);
    await engine.queues.retryLater(task, delivery.receiptHandle, outcome.retryIn);
    return 'retrying';
  }
  const type = statusTypeOf(engine.workflow.catalog, outcome.status);
  engine.metrics.add(task, type === StatusType.Success ? Metric.CompletedSuccess : Metric.CompletedError);
  // What the settle made ready is judged on the stored image after it; the claim's image is the one before.
  // (The reply to a resent write may carry later writes, which announce and count their own changes.)
  const after = result.bucketWritten && move ? { ...result.record, registers: { ...result.record.registers, [task]: settled } } : result.record;
  await afterSettle(engine, { ...after.registers, [task]: claim }, after, [task], result.bucketWritten ? move : undefined);
  return 'settled';
};

/** What a run came to: the status to record. */
export interface Outcome {
  readonly status: string;
  readonly error?: string;
  /** The names of the artifacts the run put (for its history). */
  readonly artifacts?: readonly string[];
  /** Set when the run failed and will be retried after this many seconds. */
  readonly retryIn?: number;
}

/** Runs the runner and turns what it returned or threw into the status to record. */
export const run = async (
  engine: Engine,
  runner: TransientTaskRunner,
  record: TransientRecord,
  delivery: Delivery,
  token: string,
  deadline: number,
  logger: TaskLogger,
): Promise<Outcome> => {
  const { name } = record.transient;
  const task = runner.taskName;
  const abort = new AbortController();
  // Stop cooperative runners a little before the function would be killed.
  const timer = setTimeout(() => abort.abort(new Error('function timeout approaching')), Math.max(0, deadline - engine.clock() - 1_000));
  // A run that never returns must not keep its process alive for it.
  timer.unref();
  // Outputs and artifacts: those of the runs whose results the registers hold, as the claim read them.
  const scope = { name, task, token, registers: record.registers, use: artifactUseOf(runner) };
  const recorder = runRecorder(engine, scope, (what) => assertBeforeDeadline(engine, deadline, what));
  const context: TaskContext = {
    attempt: delivery.receiveCount,
    runId: token,
    signal: abort.signal,
    logger,
    output: recorder.output,
    save: recorder.save,
    artifacts: recorder.artifacts,
  };
  try {
    const status = isPythonRunner(runner)
      ? await runInFunction(engine, task, recorder, { transient: record.transient, attempt: delivery.receiveCount, runId: token })
      : await runner.process(record.transient, context);
    // What the run put is recorded before it settles.
    await recorder.flush();
    const artifacts = recorder.artifactNames();
    if (isFinalType(statusTypeOf(engine.workflow.catalog, status))) return { status, artifacts };
    const reason = `returned "${String(status)}", which is not a success or error status of ${engine.workflow.catalog.statusFile}`;
    logger.error('runner returned an invalid status; recording its failed status', { returned: status, status: runner.failedStatusMessage });
    return { status: runner.failedStatusMessage, error: reason, artifacts };
  } catch (thrown) {
    // Past the deadline (its save was refused): Lambda would have stopped the run; nothing is recorded. The same
    // for a run whose function could not be called.
    if (thrown instanceof DeadlinePassedError || thrown instanceof RunNotStartedError) throw thrown;
    const error = coerceError(thrown);
    engine.metrics.add(task, Metric.Failures);
    const finalAttempt = delivery.receiveCount >= runner.maxReceiveCount;
    if (error instanceof NonRetryableTaskError || finalAttempt) {
      logger.error('runner failed; recording its failed status', { error, status: runner.failedStatusMessage });
      return { status: runner.failedStatusMessage, error: errorText(error) };
    }
    logger.warn('runner failed; will retry', { error, attempt: delivery.receiveCount });
    return { status: Status.NotProcessed, error: errorText(error), retryIn: retryDelaySeconds(engine.retryBaseSeconds, delivery.receiveCount) };
  } finally {
    clearTimeout(timer);
  }
};

const inContainer = (runner: TransientTaskRunner) => runner.compute === Compute.Container;

/**
 * Hands a claimed run to a container. Its message is first hidden for a lease's window, so that it does not come
 * back while the container starts; from then on the run's heartbeats keep it hidden.
 */
const startInContainer = async (engine: Engine, runner: TransientTaskRunner, handover: ContainerRun, log: TaskLogger): Promise<void> => {
  if (!engine.containers) throw new RunNotStartedError(`"${handover.task}" runs in a container, and this engine has no way to start one`);
  await engine.queues.retryLater(handover.task, handover.receiptHandle, containerVisibilitySeconds(runner.heartbeatSeconds));
  try {
    await engine.containers.start(handover);
  } catch (error) {
    throw new RunNotStartedError(`its container could not be started: ${errorText(coerceError(error))}`, { cause: error });
  }
  engine.metrics.add(handover.task, Metric.ContainerRunsStarted);
  log.info('handed over to a container run', { token: handover.token });
};

/** A run its own function stopped at the function's timeout: nothing is recorded, as when Lambda stops a run. */
export class FunctionTimedOutError extends DeadlinePassedError {}
/**
 * A run whose function could not be called (throttled, refused, misconfigured): it did not start, so nothing is
 * recorded and the message comes back; the runner's failed status is for what the runner itself does.
 */
export class RunNotStartedError extends TaskRunnerError {}

/**
 * A Python runner's run, in its own function: what it returns is checked as any runner's status, and what it
 * raised is the runner's failure. A run its function stopped at its timeout records nothing, as a TypeScript run
 * that Lambda stops: its message comes back, and after its last delivery the dead-letter handler records
 * "time limit exceeded". A `NonRetryableTaskError` it raised records its failed status at once, as in TypeScript.
 */
const runInFunction = async (engine: Engine, task: string, recorder: RunRecorder, base: Pick<RunEvent, 'transient' | 'attempt' | 'runId'>): Promise<string> => {
  if (!engine.functions) throw new RunNotStartedError(`"${task}" is a Python runner, and this engine has no way to run its function`);
  const event = await runEventOf(engine, recorder, base, task);
  let result;
  try {
    result = await engine.functions.run(task, event);
  } catch (error) {
    if (!(error instanceof RunnerFunctionError)) throw new RunNotStartedError(`its function could not be called: ${errorText(coerceError(error))}`, { cause: error });
    if (error.errorType === FUNCTION_TIMED_OUT) throw new FunctionTimedOutError(`its function stopped it at its timeout (${error.message}); nothing recorded`);
    if (error.errorType === NON_RETRYABLE) throw new NonRetryableTaskError(error.message, { cause: error });
    throw error;
  }
  // What it saved and the artifacts it wrote are recorded as a TypeScript run's would be.
  await recorder.adopt(reportedResults(result));
  return result.status as string;
};

/**
 * The claim was refused. The same message while its task is still "processing" must come back later:
 * either another invocation of it is running (acknowledging would lose the message if that run dies) or its
 * dead run's lease ran out just after this claim looked. The same message after its run finished re-sends the
 * ready successors (its worker may have died before sending them) and records the bucket. Anything else — a
 * duplicate, a message from before a reset (an older generation), a task no longer ready — is dropped.
 */
const refusedClaim = async (
  engine: Engine,
  delivery: Delivery,
  task: string,
  generation: number,
  current: TransientRecord | undefined,
  log: TaskLogger,
): Promise<void> => {
  if (!current) throw new PoisonMessageError('unknown transient: it was never ingested or has been deleted');
  const register = current.registers[task];
  const mine = sameMessage(register?.claim, delivery) && (register?.generation ?? 0) === generation;
  if (register?.status === Status.Processing && mine) {
    throw new RetryLaterError('this message is still being processed, or its last run has only just been given up');
  }
  if (register && mine && isFinalType(statusTypeOf(engine.workflow.catalog, register.status))) {
    const successors = (engine.workflow.dependents.get(task) ?? []).filter((next) => {
      const spec = engine.workflow.specs.get(next);
      return spec !== undefined && isReady(spec, current.registers) && current.registers[next]?.claim === undefined;
    });
    if (successors.length > 0) await announce(engine, current, successors, engine.clock());
    // Its worker may also have died before recording the bucket, or the run's history record.
    await recordBucket(engine, current);
    await recordSettledAttempt(engine, current, task, register, log);
    log.info('redelivered after its run finished; successors re-sent', { status: register.status, successors });
    return;
  }
  engine.metrics.add(task, Metric.DuplicatesDropped);
  log.info('not claimable; dropped', { status: register?.status ?? Status.NotProcessed, claim: register?.claim, generation });
};

