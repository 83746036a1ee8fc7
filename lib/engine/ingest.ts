/**
 * Ingesting transients: each new one is written with every task "not processed" together with the ready
 * markers of its first tasks, in one transaction. Ingesting one again changes nothing.
 */
import { bucketOf } from '../domain/counts';
import { TaskRunnerError } from '../domain/errors';
import { describeTransientIssues, transientSchema } from '../domain/transient';
import { ProcessingStatus, type Registers, readyTasks } from '../domain/workflow';
import type { IngestSummary, Transient } from '../runner';
import { Metric } from '../telemetry';
import { sendMarkers } from './dispatch';
import { type Engine, transientRunner } from './engine';
import { WORKFLOW_DIMENSION, markerFor, recordCounts, resetRegister } from './transitions';

export interface IngestOptions {
  /** Send the first tasks to their queues now instead of waiting for the next dispatcher tick. */
  readonly announce?: boolean;
}

export interface IngestResult extends IngestSummary {
  readonly createdNames: string[];
  readonly existingNames: string[];
}

export const ingestTransients = async (engine: Engine, input: readonly Transient[], options: IngestOptions = {}): Promise<IngestResult> => {
  const transients = input.map((candidate) => {
    const parsed = transientSchema.safeParse(candidate);
    if (!parsed.success) throw new TaskRunnerError(`transient "${candidate.name}": ${describeTransientIssues(parsed.error)}`);
    return parsed.data;
  });
  const now = engine.clock();
  const registers: Registers = Object.fromEntries(engine.workflow.order.map((task) => [task, resetRegister(now)]));
  const firstTasks = readyTasks(engine.workflow, registers);
  const entries = transients.map((transient) => ({
    transient,
    registers,
    status: ProcessingStatus.Processing,
    markers: firstTasks.map((task) => markerFor(engine, transient, task, now)),
  }));
  const { created, existing } = await engine.store.create(entries, now);
  engine.metrics.add(WORKFLOW_DIMENSION, Metric.Ingested, created.length);
  const [first] = created;
  if (first !== undefined) {
    await recordCounts(engine, first, { [bucketOf(engine.workflow, ProcessingStatus.Processing, registers)]: created.length });
  }
  if (options.announce && created.length > 0) {
    const fresh = new Set(created);
    for (const task of firstTasks) {
      if (!transientRunner(engine, task)?.initiallyEnabled || !engine.queues.has(task)) continue;
      const markers = entries.filter((entry) => fresh.has(entry.transient.name)).flatMap((entry) => entry.markers.filter((marker) => marker.task === task));
      await sendMarkers(engine, task, markers);
    }
  }
  return { created: created.length, existing: existing.length, createdNames: created, existingNames: existing };
};
