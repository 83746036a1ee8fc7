/**
 * A run in a container (a runner with `compute: 'container'`), which the worker started once it had claimed the
 * task. It holds the claim by heartbeats: every `heartbeatSeconds` it moves its lease (conditioned on its token) and
 * hides its SQS message for another lease's window. It runs the runner as the worker would, then settles through
 * the worker's own settle (lib/engine/worker.ts settleRun) and deletes the message. A run whose claim is lost (a
 * reset, a takeover) stops and records nothing; a run past its timeout records nothing and lets its message come
 * back after its lease, as a Lambda run past its timeout does; a run that dies stops heartbeating, and its message
 * comes back to a worker whose claim takes the task over (or, after the last delivery, to the dead-letter handler).
 */
import { ConfigError, TaskRunnerError } from '../domain/errors';
import { Status } from '../domain/catalog';
import { containerLeaseMs, containerVisibilitySeconds } from '../domain/compute';
import type { Register } from '../domain/workflow';
import type { TaskLogger, TransientTaskRunner } from '../runner';
import type { ContainerRun } from './container-runs';
import { type Engine, transientRunner } from './engine';
import type { TransientRecord } from './store';
import { Metric, withKeys } from './telemetry';
import type { Logger } from '@aws-lambda-powertools/logger';
import { DeadlinePassedError, type Outcome, type SettleEnd, comeBackAfterLease, run, settleRun } from './worker';

/** The run's claim was taken from it (a reset, a takeover, a deletion): it records nothing. */
export class ClaimLostError extends TaskRunnerError {}

/** How a container run ended: settled (or a retry set, or its result dropped at the settle), its claim lost, or not finished by its timeout. */
export type ContainerRunEnd = SettleEnd | 'lost' | 'not finished';

/** The heartbeats of one run: the latest image they wrote, and a promise that rejects once the claim is lost. */
class Heartbeat {
  record: TransientRecord;
  readonly lost: Promise<never>;
  private loseClaim: (error: ClaimLostError) => void = () => undefined;
  private readonly timer: NodeJS.Timeout;
  private beating: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly engine: Engine,
    private readonly handover: ContainerRun,
    private readonly runner: TransientTaskRunner,
    record: TransientRecord,
    private readonly log: TaskLogger,
  ) {
    this.record = record;
    this.lost = new Promise<never>((_, reject) => {
      this.loseClaim = reject;
    });
    // Observed by the race in runInContainer; a run that ends first leaves it unobserved.
    this.lost.catch(() => undefined);
    this.timer = setInterval(() => {
      this.beating ??= this.beat().finally(() => {
        this.beating = undefined;
      });
    }, runner.heartbeatSeconds * 1000);
  }

  private async beat(): Promise<void> {
    const { engine, handover, runner } = this;
    const { task } = handover;
    try {
      const extended = await engine.store.transients.extendLease(handover.transient, task, handover.token, engine.clock() + containerLeaseMs(runner.heartbeatSeconds));
      if (this.stopped) return;
      if (!extended.ok) {
        this.stop();
        this.loseClaim(new ClaimLostError('the claim was lost to a reset, a takeover or a deletion; nothing recorded'));
        return;
      }
      this.record = extended.record;
      await engine.queues.retryLater(task, handover.receiptHandle, containerVisibilitySeconds(runner.heartbeatSeconds));
      this.log.debug('heartbeat', { leaseUntil: extended.record.registers[task]?.leaseUntil });
    } catch (error) {
      // The lease outlasts two missed heartbeats; the next one tries again.
      engine.metrics.add(task, Metric.HeartbeatsMissed);
      this.log.warn('heartbeat failed; the next one tries again', { error });
    }
  }

  /** No more heartbeats. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Stops, and waits for a heartbeat in flight (its write lands before the settle, which then sees its version). */
  async finish(): Promise<void> {
    this.stop();
    await this.beating;
  }
}

/** Rejects at `deadline` (by the engine's clock) unless cleared: a run must not outlive its timeout. */
const deadlineTimer = (engine: Engine, deadline: number) => {
  let timer: NodeJS.Timeout | undefined;
  const passed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlinePassedError("the run did not finish within its runner's timeout; nothing recorded")), Math.max(0, deadline - engine.clock()));
  });
  passed.catch(() => undefined);
  return { passed, clear: () => clearTimeout(timer) };
};

/**
 * Runs the handed-over run to its end. Returns how it ended; the caller (the container's entry) then exits, which
 * also stops whatever a runner left going after a lost claim or a timeout.
 */
export const runInContainer = async (engine: Engine, handover: ContainerRun, logger: Logger): Promise<ContainerRunEnd> => {
  const { task, transient: name, token } = handover;
  const runner = transientRunner(engine, task);
  if (!runner) throw new ConfigError(`no transient runner is registered for task "${task}" in this container's registry`);
  const log = withKeys(logger, { transient: name, task, attempt: handover.attempt, messageId: handover.messageId });
  const record = await engine.store.transients.get(name);
  const held = record?.registers[task];
  if (!record || held?.claim !== token || held.status !== Status.Processing) {
    log.warn('the claim it was started for is no longer held; nothing run', { token, status: held?.status });
    return 'lost';
  }
  const claim: Register = held;
  const heartbeat = new Heartbeat(engine, handover, runner, record, log);
  const deadline = handover.claimedAt + runner.timeoutSeconds * 1000;
  const timeout = deadlineTimer(engine, deadline);
  const delivery = { messageId: handover.messageId, receiptHandle: handover.receiptHandle, body: '', receiveCount: handover.attempt };
  let outcome: Outcome;
  try {
    outcome = await Promise.race([run(engine, runner, record, delivery, token, deadline, log), heartbeat.lost, timeout.passed]);
  } catch (error) {
    await heartbeat.finish();
    if (error instanceof ClaimLostError) {
      engine.metrics.add(task, Metric.StaleCompletions);
      log.warn('claim lost during the run; nothing recorded', { token });
      return 'lost';
    }
    if (error instanceof DeadlinePassedError) {
      // The lease the last heartbeat wrote, which the message's return must outwait.
      await comeBackAfterLease(engine, task, handover.receiptHandle, heartbeat.record.registers[task] ?? claim, log, error);
      return 'not finished';
    }
    throw error;
  } finally {
    timeout.clear();
  }
  await heartbeat.finish();
  const ended = await settleRun(engine, { delivery, token, generation: handover.generation, claim, claimedAt: handover.claimedAt, record: heartbeat.record, outcome }, runner, log);
  // Recorded: the message has done its work. A retry keeps it (hidden until the retry is due); a result dropped
  // because the claim was lost leaves it to come back and be judged by its claim, like any late delivery.
  if (ended === 'settled') await engine.queues.acknowledge(task, handover.receiptHandle);
  return ended;
};
