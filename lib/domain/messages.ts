import { z } from 'zod';
import { PoisonMessageError } from './errors';
import { transientNameSchema } from './transient';

/** Longest task name a message may carry (fixture task names are a few words). */
export const MAX_TASK_NAME_LENGTH = 200;
/** Longest body read at all: task messages are about 100 bytes; anything near SQS's limit is not one. */
export const MAX_BODY_LENGTH = 4_096;

/** The body of every SQS message: run `task` for `transient`. */
export const taskMessageSchema = z.strictObject({
  transient: transientNameSchema,
  task: z.string().min(1).max(MAX_TASK_NAME_LENGTH),
  /** Epoch ms at which the task became ready; measures the wait between readiness and claim. */
  readyAt: z.number().int().nonnegative(),
  /**
   * The task register's generation when the message was sent (resets increment it; absent is 0), so that a
   * message from before a reset is told apart from the reset's own without comparing clocks.
   */
  g: z.number().int().nonnegative().optional(),
});
export type TaskMessage = z.infer<typeof taskMessageSchema>;

/** The input an EventBridge schedule passes to the dispatcher and to system runners. */
export const scheduleEventSchema = z.looseObject({ task: z.string().min(1) });
export type ScheduleEvent = z.infer<typeof scheduleEventSchema>;

const describe = (error: z.ZodError) => error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');

/** Parses and validates an SQS body; anything else is a poison message that no retry can fix. */
export const parseTaskMessage = (body: string): TaskMessage => {
  if (body.length > MAX_BODY_LENGTH) throw new PoisonMessageError(`message body is ${body.length} characters long; a task message is under ${MAX_BODY_LENGTH}`);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new PoisonMessageError(`message body is not JSON: ${body.slice(0, 80)}`, { cause });
  }
  const parsed = taskMessageSchema.safeParse(json);
  if (!parsed.success) throw new PoisonMessageError(`message body is not a task message: ${describe(parsed.error)}`);
  return parsed.data;
};

export const parseScheduleEvent = (event: unknown): ScheduleEvent => {
  const parsed = scheduleEventSchema.safeParse(event);
  if (!parsed.success) throw new PoisonMessageError(`scheduled event does not name a runner: ${describe(parsed.error)}`);
  return parsed.data;
};
