import { z } from 'zod';
import { PoisonMessageError } from './errors';

/** The body of every SQS message: run `task` for `transient`. */
export const taskMessageSchema = z.strictObject({
  transient: z.string().min(1),
  task: z.string().min(1),
  /** Epoch ms at which the task became ready; measures the wait between readiness and claim. */
  readyAt: z.number().int().nonnegative(),
});
export type TaskMessage = z.infer<typeof taskMessageSchema>;

/** The input an EventBridge schedule passes to the dispatcher and to system runners. */
export const scheduleEventSchema = z.looseObject({ task: z.string().min(1) });
export type ScheduleEvent = z.infer<typeof scheduleEventSchema>;

const describe = (error: z.ZodError) => error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');

/** Parses and validates an SQS body; anything else is a poison message that no retry can fix. */
export const parseTaskMessage = (body: string): TaskMessage => {
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
