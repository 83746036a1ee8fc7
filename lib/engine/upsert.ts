/**
 * Ingest-or-update, for sources such as TNS that report new transients and changes to known ones. New
 * transients are ingested; a known one whose data changed is revised in one compare-and-set write that also
 * resets the tasks reading a changed field (coordinates, redshift) and everything downstream of them; the
 * tasks that thereby become ready go out at once. Identical data writes nothing.
 */
import { affectedTasks, changedFields, fieldsUsedByTask, resetRegisters, sameTransientData } from '../domain/revision';
import { coerceError } from '../domain/errors';
import { describeTransientIssues, transientSchema } from '../domain/transient';
import type { Transient, UpsertSummary } from '../runner';
import { Metric } from './telemetry';
import { forEachLimited } from './concurrency';
import { StoreRefusedError, type TransientRecord } from './store';
import type { Engine } from './engine';
import { type IngestOptions, ingestTransients } from './ingest';
import { WORKFLOW_DIMENSION, reviseTransient } from './transitions';

/** Revisions written at once; each is a read and a conditional write on its own transient. */
const REVISION_CONCURRENCY = 8;

interface Revised {
  readonly written: boolean;
  readonly tasksReset: number;
}

/**
 * Brings one known transient up to date; returns whether anything was written and how many tasks were
 * reset. `current` is the record if it was just read.
 */
export const reviseTransientData = async (
  engine: Engine,
  incoming: Transient,
  fieldsUsed = fieldsUsedByTask(engine.runners.values()),
  current?: TransientRecord,
): Promise<Revised> => {
  const change = await reviseTransient(
    engine,
    incoming.name,
    (record) => {
      if (sameTransientData(record.transient, incoming)) return undefined;
      const tasks = affectedTasks(engine.workflow, fieldsUsed, changedFields(record.transient, incoming));
      return { registers: resetRegisters(record.registers, tasks, engine.clock()), transient: incoming };
    },
    current ? { current } : {},
  );
  if (!change || change.after === change.before) return { written: false, tasksReset: 0 };
  if (change.changed.length > 0) {
    engine.logger.info('transient data changed; tasks reset', { transient: incoming.name, reset: change.changed });
  }
  return { written: true, tasksReset: change.changed.length };
};


export const upsertTransients = async (engine: Engine, input: readonly Transient[], options: IngestOptions = {}): Promise<UpsertSummary> => {
  const rejected: { name: string; reason: string }[] = [];
  // The last report of a name wins, as it would had they come one by one.
  const byName = new Map<string, Transient>();
  for (const candidate of input) {
    const parsed = transientSchema.safeParse(candidate);
    if (parsed.success) byName.set(parsed.data.name, parsed.data);
    else rejected.push({ name: String(candidate?.name ?? '').slice(0, 200), reason: describeTransientIssues(parsed.error) });
  }
  const transients = [...byName.values()];
  const known = new Map((await engine.store.transients.getMany(transients.map((transient) => transient.name))).map((record) => [record.transient.name, record]));
  const fresh = transients.filter((transient) => !known.has(transient.name));
  const ingested = fresh.length > 0 ? await ingestTransients(engine, fresh, options) : undefined;
  rejected.push(...(ingested?.rejected ?? []));
  // Ones created by another writer since they were read are read again (in one batch, as the known ones
  // were) and revised like any known transient.
  const raced = new Set(ingested?.existingNames ?? []);
  if (raced.size > 0) for (const record of await engine.store.transients.getMany([...raced])) known.set(record.transient.name, record);
  const candidates = transients.filter((transient) => known.has(transient.name));
  // Most reports repeat what is stored; those cost nothing more than the reads above. (One created meanwhile
  // and deleted again before the second read is left for the next report to ingest.)
  const toRevise = candidates.filter((transient) => {
    const stored = known.get(transient.name);
    return stored !== undefined && !sameTransientData(stored.transient, transient);
  });

  let updated = 0;
  let tasksReset = 0;
  const fieldsUsed = fieldsUsedByTask(engine.runners.values());
  await forEachLimited(toRevise, REVISION_CONCURRENCY, async (transient) => {
    let revised: Revised;
    try {
      revised = await reviseTransientData(engine, transient, fieldsUsed, known.get(transient.name));
    } catch (error) {
      // The store refuses this one as it is (an item over its limits): it alone is rejected.
      if (!(error instanceof StoreRefusedError)) throw error;
      rejected.push({ name: transient.name, reason: `refused by the store: ${coerceError(error).message}` });
      return;
    }
    if (revised.written) updated++;
    tasksReset += revised.tasksReset;
  });
  engine.metrics.add(WORKFLOW_DIMENSION, Metric.Updated, updated);
  engine.metrics.add(WORKFLOW_DIMENSION, Metric.TasksReset, tasksReset);
  return { created: ingested?.created ?? 0, updated, unchanged: candidates.length - updated, tasksReset, rejected };
};
