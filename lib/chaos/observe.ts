/** Reads what a chaos run has and left behind: registers, ready markers, dead letters, the status index, queues, counters. */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type ProcessingStatus, processingStatuses } from '../domain/workflow';
import { recountTransients } from '../engine/counts';
import { UNROUTABLE } from '../engine/dead-letters';
import { type Engine, transientRunner } from '../engine/engine';
import { deadLettersOf, listTransients } from '../engine/operations';
import { historyOf } from '../engine/history';
import type { ReadyMarker } from '../engine/store';
import type { CounterState, FinalState, Observation } from './invariants';

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

/** Every ready marker of every runner's ready index, page by page. */
export const allMarkers = async (engine: Engine): Promise<ReadyMarker[]> => {
  const shards = engine.workflow.order.flatMap((task) => {
    const runner = transientRunner(engine, task);
    return runner ? Array.from({ length: runner.readyShards }, (_, shard) => ({ task, shard })) : [];
  });
  const pages = await Promise.all(
    shards.map(async ({ task, shard }) => {
      const markers: ReadyMarker[] = [];
      let cursor: string | undefined;
      do {
        const page = await engine.store.readiness.page(task, shard, 100, cursor);
        markers.push(...page.items);
        cursor = page.next;
      } while (cursor);
      return markers;
    }),
  );
  return pages.flat();
};

/** One look at the run: the registers first, then the markers (the order the readiness check relies on). */
export const observe = async (engine: Engine, names: readonly string[]): Promise<Observation> => {
  const from = Date.now();
  const records = await engine.store.transients.getMany(names);
  return { records, markers: await allMarkers(engine), from };
};

/** Recounts the counters from the status index, as the scheduled recount does, and reports before and after. */
export const recountForCheck = async (engine: Engine): Promise<CounterState> => {
  const at = Date.now();
  // Longer than a write in flight when its process died takes to land (lib/chaos/inject.ts), so none is missed.
  const result = await recountTransients(engine, { settleMs: 3_500 });
  const after = await engine.store.counters.read();
  return { before: { ...result.before }, counted: { ...result.counted }, after, busy: result.busy, at };
};

export const finalState = async (engine: Engine, sqs: SQSClient, queueUrls: readonly string[], names: readonly string[]): Promise<FinalState> => {
  const tasks = [...engine.workflow.order.filter((task) => transientRunner(engine, task)), UNROUTABLE];
  const [records, letters, listedPages, pending, markers] = await Promise.all([
    engine.store.transients.getMany(names),
    Promise.all(tasks.map((task) => deadLettersOf(engine, task))),
    Promise.all(processingStatuses.map((status) => listTransients(engine, { statuses: [status], limit: names.length + 1 }))),
    pendingMessages(sqs, queueUrls),
    allMarkers(engine),
  ]);
  const listed = new Map<ProcessingStatus, Set<string>>(
    processingStatuses.map((status, index) => [status, new Set((listedPages[index]?.records ?? []).map((record) => record.transient.name))]),
  );
  const runs = (await Promise.all(records.map((record) => historyOf(engine, record.transient.name)))).flat();
  return { names, records, deadLetters: letters.flat(), listed, pendingMessages: pending, readyMarkers: markers.length, runs };
};
