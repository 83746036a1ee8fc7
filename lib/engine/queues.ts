/** The task queues as the engine needs them: the port lib/queue/task-queues.ts implements on SQS. */
import type { TaskMessage } from '../domain/messages';

export interface TaskQueues {
  /** Whether this function may send to the task's queue. */
  has(task: string): boolean;
  /** Sends the messages to the task's queue; returns those that could not be sent. */
  send(task: string, messages: readonly TaskMessage[]): Promise<TaskMessage[]>;
  /** Hides a received message for `seconds` before SQS delivers it again (the retry backoff). */
  retryLater(task: string, receiptHandle: string, seconds: number): Promise<void>;
  /** Deletes a received message: a container run's, once it has settled (a worker's are deleted by its event source). */
  acknowledge(task: string, receiptHandle: string): Promise<void>;
  /**
   * Sends a message as it is to the dead-letter queue of the queue it came from (by ARN). Returns that
   * queue's task, or undefined when no dead-letter queue is configured for it.
   */
  deadLetter(sourceArn: string, body: string): Promise<string | undefined>;
}
