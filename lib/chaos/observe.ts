/** Reads what a chaos run left behind: registers, dead letters, the status index, queues and ready markers. */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type ProcessingStatus, processingStatuses } from '../domain/workflow';
import { UNROUTABLE } from '../engine/dead-letters';
import { type Engine, transientRunner } from '../engine/engine';
import { deadLettersOf, listTransients } from '../engine/operations';
import type { FinalState } from './invariants';

const COUNTED = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;

/** Messages in these queues: waiting, in flight, or delayed. */
export const pendingMessages = async (sqs: SQSClient, queueUrls: readonly string[]): Promise<number> => {
  const counts = await Promise.all(
    queueUrls.map(async (QueueUrl) => {
      const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: [...COUNTED] }));
      return COUNTED.reduce((sum, name) => sum + (Number(Attributes[name]) || 0), 0);
    }),
  );
  return counts.reduce((sum, count) => sum + count, 0);
};

/** Ready markers of every runner's ready index (up to a page per shard: enough to tell "some" from "none"). */
export const readyMarkers = async (engine: Engine): Promise<number> => {
  const pages = await Promise.all(
    engine.workflow.order.flatMap((task) => {
      const runner = transientRunner(engine, task);
      return runner ? Array.from({ length: runner.readyShards }, (_, shard) => engine.store.readyPage(task, shard, 100)) : [];
    }),
  );
  return pages.reduce((sum, page) => sum + page.markers.length, 0);
};

export const finalState = async (engine: Engine, sqs: SQSClient, queueUrls: readonly string[], names: readonly string[]): Promise<FinalState> => {
  const tasks = [...engine.workflow.order.filter((task) => transientRunner(engine, task)), UNROUTABLE];
  const [records, letters, listedPages, pending, markers] = await Promise.all([
    engine.store.getMany(names),
    Promise.all(tasks.map((task) => deadLettersOf(engine, task))),
    Promise.all(processingStatuses.map((status) => listTransients(engine, { statuses: [status], limit: names.length + 1 }))),
    pendingMessages(sqs, queueUrls),
    readyMarkers(engine),
  ]);
  const listed = new Map<ProcessingStatus, Set<string>>(
    processingStatuses.map((status, index) => [status, new Set((listedPages[index]?.records ?? []).map((record) => record.transient.name))]),
  );
  return { names, records, deadLetters: letters.flat(), listed, pendingMessages: pending, readyMarkers: markers };
};
