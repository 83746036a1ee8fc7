/**
 * Ingesting transients: each new one is written with every task "not processed" together with the ready
 * markers of its first tasks, in one transaction. Ingesting one again changes nothing. A transient that is
 * invalid, or that DynamoDB refuses as it is, is rejected alone with its reason; the rest are ingested.
 */
import { CountBucket } from '../domain/counts';
import { describeTransientIssues, transientSchema } from '../domain/transient';
import { type Registers, freshRegister, readyTasks } from '../domain/workflow';
import type { IngestSummary, Transient } from '../runner';
import { shardOf } from '../domain/ordering';
import { COUNTER_SHARDS } from './store';
import { Metric } from './telemetry';
import { sendMarkers } from './dispatch';
import { type Engine, transientRunner } from './engine';
import { WORKFLOW_DIMENSION, markerFor, recordCounts } from './transitions';

export interface IngestOptions {
  /** Send the first tasks to their queues now instead of waiting for the next dispatcher tick. */
  readonly announce?: boolean;
}

export interface IngestResult extends IngestSummary {
  readonly createdNames: string[];
  readonly existingNames: string[];
}

export const ingestTransients = async (engine: Engine, input: readonly Transient[], options: IngestOptions = {}): Promise<IngestResult> => {
  const rejected: { name: string; reason: string }[] = [];
  // One write per transient: the last row of a name wins, as it would had the rows come one by one.
  const byName = new Map<string, Transient>();
  for (const candidate of input) {
    const parsed = transientSchema.safeParse(candidate);
    if (parsed.success) byName.set(parsed.data.name, parsed.data);
    else rejected.push({ name: String(candidate?.name ?? '').slice(0, 200), reason: describeTransientIssues(parsed.error) });
  }
  const transients = [...byName.values()];
  const now = engine.clock();
  const registers: Registers = Object.fromEntries(engine.workflow.order.map((task) => [task, freshRegister(now)]));
  const firstTasks = readyTasks(engine.workflow, registers);
  const entries = transients.map((transient) => ({
    transient,
    registers,
    bucket: CountBucket.Waiting,
    markers: firstTasks.filter((task) => transientRunner(engine, task)).map((task) => markerFor(engine, transient, task, now, 0)),
  }));
  const stored = await engine.store.transients.create(entries, now);
  rejected.push(...stored.rejected);
  const { created, existing } = stored;
  engine.metrics.add(WORKFLOW_DIMENSION, Metric.Ingested, created.length);
  // Each transient is counted on its own shard's counter item, so that a shard can be recounted alone.
  const perShard = new Map<number, string[]>();
  for (const name of created) perShard.set(shardOf(name, COUNTER_SHARDS), [...(perShard.get(shardOf(name, COUNTER_SHARDS)) ?? []), name]);
  for (const names of perShard.values()) {
    const [first] = names;
    if (first !== undefined) await recordCounts(engine, first, { [CountBucket.Waiting]: names.length });
  }
  if (options.announce && created.length > 0) {
    const fresh = new Set(created);
    for (const task of firstTasks) {
      if (!transientRunner(engine, task)?.initiallyEnabled || !engine.queues.has(task)) continue;
      const markers = entries.filter((entry) => fresh.has(entry.transient.name)).flatMap((entry) => entry.markers.filter((marker) => marker.task === task));
      await sendMarkers(engine, task, markers);
    }
  }
  return { created: created.length, existing: existing.length, rejected, createdNames: created, existingNames: existing };
};
