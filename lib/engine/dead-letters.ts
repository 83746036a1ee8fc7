/**
 * Principle 5: a message that used up its deliveries lands in the dead-letter queue. If its own delivery
 * still holds the task, the register gets an error status ("time limit exceeded" for a run that never
 * returned, the runner's failed status for one that kept throwing); in every case the message is kept as a
 * dead-letter record from which it can be redriven, with the reason. The dead-letter message is itself the
 * record of what it owes: if this handler dies, the message comes back and it starts again.
 */
import { Status, isFinalType, statusTypeOf } from '../domain/catalog';
import { PoisonMessageError, TaskRunnerError } from '../domain/errors';
import { type TaskMessage, parseTaskMessage } from '../domain/messages';
import { MAX_CLOCK_SKEW_MS } from '../domain/time';
import { type Register, generationOf, isReady } from '../domain/workflow';
import { Metric } from './telemetry';
import { type Engine, transientRunner } from './engine';
import { recordSettledAttempt } from './attempts';
import { announce, updateTransient } from './transitions';
import { type Delivery, sameMessage } from './worker';

/** Where dead letters whose body names no runner are filed. */
export const UNROUTABLE = 'unroutable';
/** The longest part of a message body kept in a dead-letter record (a task message is about 100 bytes). */
export const MAX_KEPT_BODY = 2_048;

/** The body as kept in a record: whole if short, else its start and its length. */
const keptBody = (body: string) => (body.length <= MAX_KEPT_BODY ? body : `${body.slice(0, MAX_KEPT_BODY)}… (${body.length} characters)`);

/**
 * Handles one dead-letter message. `sourceTask` is the runner whose dead-letter queue it came from: the
 * message is acted on only if it names that runner (the queue, not the body, says whose it is).
 */
export const recordDeadLetter = async (engine: Engine, delivery: Delivery, sourceTask?: string): Promise<string> => {
  const now = engine.clock();
  // The runner's queue delivered the message this often; the dead-letter queue counts its own receives afresh.
  let deliveries = 0;
  const file = async (task: string, name: string, reason: string) => {
    await engine.store.deadLetters.put({
      task,
      name,
      body: keptBody(delivery.body),
      reason,
      receiveCount: Math.max(deliveries, delivery.receiveCount),
      messageId: delivery.messageId,
      at: now,
    });
    engine.metrics.add(task, Metric.DeadLettered);
    engine.logger.warn('dead letter recorded', { task, transient: name, reason, messageId: delivery.messageId });
    return reason;
  };

  let message: TaskMessage;
  try {
    message = parseTaskMessage(delivery.body);
  } catch (error) {
    if (!(error instanceof PoisonMessageError)) throw error;
    return file(sourceTask ?? UNROUTABLE, `message ${delivery.messageId}`, error.message);
  }
  const { transient: name, task } = message;
  if (sourceTask !== undefined && task !== sourceTask) {
    // Filed under its message, not the transient: the queue's own record of that transient stays as it is.
    return file(sourceTask, `message ${delivery.messageId}`, `nothing recorded: the message names task "${task}" but came from the dead-letter queue of "${sourceTask}"`);
  }
  const runner = transientRunner(engine, task);
  if (!runner) return file(sourceTask ?? UNROUTABLE, name, `no transient runner is registered for task "${task}"`);

  let recorded: Register | undefined;
  let why = '';
  const change = await updateTransient(engine, name, (record) => {
    const register = record.registers[task];
    const status = register?.status ?? Status.NotProcessed;
    deliveries = register?.attempt ?? 0;
    recorded = undefined;
    // A message of an older generation was sent before the task was reset: the reset's own message carries it on.
    if ((message.g ?? 0) < generationOf(record.registers, task)) {
      why = 'nothing recorded: the task was reset after this message was sent';
      return undefined;
    }
    // Already recorded by an earlier run of this handler whose reply was lost (or a second copy of the message).
    if (register?.deadLettered) {
      recorded = register;
      return undefined;
    }
    const mine = sameMessage(register?.claim, delivery);
    if (status === Status.Processing) {
      // Another message's run (live, or dead and coming back with its own message) finishes the job.
      if (!mine) {
        why = `nothing recorded: another message's delivery holds the task ("${status}")`;
        return undefined;
      }
      // Its last run may still be going on a slow clock's lease; the message comes back after it.
      if ((register?.leaseUntil ?? 0) + MAX_CLOCK_SKEW_MS >= now) throw new StillRunningError(`the last run of ${name}/${task} may still be going`);
      recorded = {
        status: Status.TimeLimitExceeded,
        lastModified: now,
        attempt: deliveries,
        lastError: `no result after ${deliveries} deliveries: the run timed out or crashed every time`,
        deadLettered: true,
        ...(register?.generation ? { generation: register.generation } : {}),
      };
    } else if (status === Status.NotProcessed) {
      // Another message waits for its retry: it finishes the job.
      if (register?.claim !== undefined && !mine) {
        why = `nothing recorded: another message's delivery holds the task ("${status}", a retry waiting)`;
        return undefined;
      }
      recorded = {
        status: runner.failedStatusMessage,
        lastModified: now,
        attempt: deliveries,
        lastError: register?.lastError ?? `every delivery failed before the runner could finish`,
        deadLettered: true,
        ...(register?.generation ? { generation: register.generation } : {}),
      };
    } else {
      why = `nothing recorded: the task was already "${status}"`;
    }
    return recorded ? { [task]: recorded } : undefined;
  }, { takenBy: 'the dead-letter handler' });
  if (!change) return file(task, name, 'unknown transient: it was never ingested or has been deleted');
  // The task finished, but the run that finished it may have died before sending what that made ready (on its
  // last delivery, nothing else would): those go to the dispatcher as ready markers. Duplicates are dropped at claim.
  const after = change.after;
  const register = after.registers[task];
  if (isFinalType(statusTypeOf(engine.workflow.catalog, register?.status ?? Status.NotProcessed))) {
    // So may the history record of that run, settled by this message's last delivery: written where it is missing.
    if (!recorded && register && sameMessage(register.claim, delivery)) await recordSettledAttempt(engine, after, task, register, engine.logger);
    const successors = (engine.workflow.dependents.get(task) ?? []).filter((next) => {
      const spec = engine.workflow.specs.get(next);
      return spec !== undefined && isReady(spec, after.registers) && after.registers[next]?.claim === undefined && !change.ready.includes(next);
    });
    if (successors.length > 0) await announce(engine, after, successors, now);
  }
  if (recorded) return file(task, name, `recorded "${recorded.status}": ${recorded.lastError}`);
  return file(task, name, why);
};

/** The message's last run may still be going: the dead-letter message must come back later. */
export class StillRunningError extends TaskRunnerError {}
