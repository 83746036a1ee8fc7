/**
 * Principle 5: a message that used up its deliveries lands in the dead-letter queue. Its register gets an
 * error status ("time limit exceeded" for a run that never returned, the runner's failed status for one
 * that kept throwing) and the message is kept as a dead-letter record from which it can be redriven.
 */
import { Status } from '../domain/catalog';
import { PoisonMessageError } from '../domain/errors';
import { parseTaskMessage } from '../domain/messages';
import type { Register } from '../domain/workflow';
import { Metric } from '../telemetry';
import { type Engine, transientRunner } from './engine';
import { updateTransient } from './transitions';
import { type Delivery, sameMessage } from './worker';

/** Where dead letters whose body names no runner are filed. */
export const UNROUTABLE = 'unroutable';

export const recordDeadLetter = async (engine: Engine, delivery: Delivery, sourceTask?: string): Promise<string> => {
  const now = engine.clock();
  // The runner's queue delivered the message this often; the dead-letter queue counts its own receives afresh.
  let deliveries = 0;
  const file = async (task: string, name: string, reason: string) => {
    await engine.store.putDeadLetter({
      task,
      name,
      body: delivery.body,
      reason,
      receiveCount: Math.max(deliveries, delivery.receiveCount),
      messageId: delivery.messageId,
      at: now,
    });
    engine.metrics.add(task, Metric.DeadLettered);
    engine.logger.warn('dead letter recorded', { task, transient: name, reason, messageId: delivery.messageId });
    return reason;
  };

  let message;
  try {
    message = parseTaskMessage(delivery.body);
  } catch (error) {
    if (!(error instanceof PoisonMessageError)) throw error;
    return file(sourceTask ?? UNROUTABLE, `message ${delivery.messageId}`, error.message);
  }
  const { transient: name, task } = message;
  const runner = transientRunner(engine, task);
  if (!runner) return file(sourceTask ?? UNROUTABLE, name, `no transient runner is registered for task "${task}"`);

  let recorded: Register | undefined;
  let othersHold = false;
  let resetSince = false;
  const change = await updateTransient(engine, name, (record) => {
    const register = record.registers[task];
    const status = register?.status ?? Status.NotProcessed;
    deliveries = register?.attempt ?? 0;
    recorded = undefined;
    // Already recorded by an earlier run of this handler whose reply was lost (or a second copy of the message).
    if (register?.deadLettered) {
      recorded = register;
      return undefined;
    }
    // Another message's delivery holds the task (a live run, or a retry it is waiting for): it finishes the job.
    othersHold =
      register?.claim !== undefined &&
      !sameMessage(register.claim, delivery) &&
      (status === Status.NotProcessed || (status === Status.Processing && (register.leaseUntil ?? 0) >= now));
    if (othersHold) return undefined;
    // The task was reset (retrigger, reprocess, a revision, a redrive) after this message was sent: the message
    // belongs to the attempt the reset discarded, and the reset's own message carries the task on.
    resetSince = status === Status.NotProcessed && register?.claim === undefined && message.readyAt < (register?.lastModified ?? 0);
    if (resetSince) return undefined;
    if (status === Status.Processing) {
      recorded = {
        status: Status.TimeLimitExceeded,
        lastModified: now,
        attempt: deliveries,
        lastError: `no result after ${deliveries} deliveries: the run timed out or crashed every time`,
        deadLettered: true,
      };
    } else if (status === Status.NotProcessed) {
      recorded = {
        status: runner.failedStatusMessage,
        lastModified: now,
        attempt: deliveries,
        lastError: register?.lastError ?? `every delivery failed before the runner could finish`,
        deadLettered: true,
      };
    }
    return recorded ? { [task]: recorded } : undefined;
  });
  if (!change) return file(task, name, 'unknown transient: it was never ingested or has been deleted');
  if (!recorded && resetSince) return file(task, name, 'nothing recorded: the task was reset after this message was sent');
  if (!recorded && othersHold) return file(task, name, `nothing recorded: another message's delivery holds the task ("${change.after.registers[task]?.status}")`);
  if (!recorded) return file(task, name, `nothing recorded: the task was already "${change.after.registers[task]?.status}"`);
  return file(task, name, `recorded "${recorded.status}": ${recorded.lastError}`);
};
