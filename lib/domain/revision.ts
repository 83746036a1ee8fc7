/**
 * Revising a known transient with newer data (TNS changed it): which fields changed, and which tasks must
 * run again because of it — those that read a changed field, and everything downstream of them (Blast's
 * retrigger "from the relevant stages"). Pure: the engine writes the result in one compare-and-set.
 */
import { Status } from './catalog';
import { type AnyDeclaration, TransientField, isTransientDeclaration } from './declaration';
import type { Transient } from './transient';
import { type Register, type Registers, type Workflow, resetRegister } from './workflow';

/** Each transient runner's declared `usesTransientFields`, by task. */
export const fieldsUsedByTask = (runners: Iterable<AnyDeclaration>): ReadonlyMap<string, readonly TransientField[]> =>
  new Map([...runners].filter(isTransientDeclaration).map((runner) => [runner.taskName, runner.usesTransientFields] as const));

/** Stored and incoming data are the same: nothing to write. */
export const sameTransientData = (stored: Transient, incoming: Transient): boolean =>
  stored.name === incoming.name &&
  stored.raDeg === incoming.raDeg &&
  stored.decDeg === incoming.decDeg &&
  new Date(stored.publicTimestamp).getTime() === new Date(incoming.publicTimestamp).getTime() &&
  stored.redshift === incoming.redshift &&
  stored.spectroscopicClass === incoming.spectroscopicClass;

/** The fields runners depend on that differ between the stored and the incoming data. */
export const changedFields = (stored: Transient, incoming: Transient): TransientField[] => {
  const changed: TransientField[] = [];
  if (stored.raDeg !== incoming.raDeg || stored.decDeg !== incoming.decDeg) changed.push(TransientField.Coordinates);
  if (stored.redshift !== incoming.redshift) changed.push(TransientField.Redshift);
  return changed;
};

/** `tasks` and every task that depends on one of them, directly or further down, in workflow order. */
export const withDescendants = (workflow: Workflow, tasks: Iterable<string>): string[] => {
  const reached = new Set<string>();
  const pending = [...tasks];
  for (let task = pending.pop(); task !== undefined; task = pending.pop()) {
    if (reached.has(task)) continue;
    reached.add(task);
    pending.push(...(workflow.dependents.get(task) ?? []));
  }
  return workflow.order.filter((task) => reached.has(task));
};

/** The tasks a change of `fields` sends back to the start: the readers of those fields and their descendants. */
export const affectedTasks = (
  workflow: Workflow,
  fieldsUsed: ReadonlyMap<string, readonly TransientField[]>,
  fields: readonly TransientField[],
): string[] =>
  withDescendants(
    workflow,
    workflow.order.filter((task) => (fieldsUsed.get(task) ?? []).some((field) => fields.includes(field))),
  );

/**
 * The registers to write so that `tasks` run again: each one not already "not processed" goes back to it,
 * dropping any claim (a run in progress can then no longer record its now stale result); so does a "not
 * processed" one held by a waiting retry, whose message belongs to the run before the change (it can then no
 * longer claim, and the task waits for its prerequisites' new results like the others).
 */
export const resetRegisters = (registers: Registers, tasks: readonly string[], now: number): Record<string, Register> =>
  Object.fromEntries(
    tasks
      .filter((task) => (registers[task]?.status ?? Status.NotProcessed) !== Status.NotProcessed || registers[task]?.claim !== undefined)
      .map((task) => [task, resetRegister(now, registers[task])]),
  );

/**
 * The tasks a revision can make ready, for any transient, whatever its registers: a task that a change of
 * one field resets and whose prerequisites among the reset tasks all ask for "not processed"; the others
 * wait for a reset task to finish first. What an upsert may have to send at once.
 */
export const tasksReadyAfterRevision = (workflow: Workflow, fieldsUsed: ReadonlyMap<string, readonly TransientField[]>): string[] => {
  const ready = new Set<string>();
  // A change of several fields resets the union of what each resets, which makes no other task ready.
  for (const field of Object.values(TransientField)) {
    const reset = new Set(affectedTasks(workflow, fieldsUsed, [field]));
    for (const task of reset) {
      const spec = workflow.specs.get(task);
      const waits = Object.entries(spec?.prerequisites ?? {}).some(([on, wanted]) => on !== task && reset.has(on) && wanted !== Status.NotProcessed);
      if (spec && !waits) ready.add(task);
    }
  }
  return workflow.order.filter((task) => ready.has(task));
};
