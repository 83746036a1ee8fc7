/**
 * Where a result came from, and whether it still holds (principle 11). Every run records its task's version (in its
 * register, a few bytes, and its history record) and its inputs with their fingerprint — the transient fields its
 * runner declares it reads, and the upstream results it could read, each by task, run and version — in its history
 * record (the register is rewritten at every claim and settle, so it stays small). A result is *stale* when its
 * task's version is no longer the one it ran with, when an upstream result it used was superseded by another run,
 * or when an upstream result it used is itself stale. All of it is derived from the registers, the recorded inputs
 * and the registry's prerequisites: no list of what depends on what is written anywhere by hand.
 */
import { createHash } from 'node:crypto';
import { statusTypeOf, isFinalType } from './catalog';
import { type AnyDeclaration, TransientField, isTransientDeclaration, taskVersionOf } from './declaration';
import type { Transient } from './transient';
import { type Registers, type Workflow, dependencyEdges } from './workflow';

/** What a task is now, as the registry declares it: what its next run will record. */
export interface CurrentTask {
  readonly version: string;
  /** The transient fields its runner reads (`usesTransientFields`). */
  readonly fields: readonly TransientField[];
}

/** Each transient runner's current version and the fields it reads, by task. */
export const currentTasks = (runners: Iterable<AnyDeclaration>): ReadonlyMap<string, CurrentTask> =>
  new Map(
    [...runners].filter(isTransientDeclaration).map((runner) => [runner.taskName, { version: taskVersionOf(runner), fields: runner.usesTransientFields }] as const),
  );

/** An upstream result a run could read: the run that made it (its claim token) and the version it ran with. */
export interface UpstreamResult {
  readonly run: string;
  readonly version?: string;
}

/** What a run's result depends on besides its code: kept whole, with its fingerprint, in its history record. */
export interface RunInputs {
  /** The transient's data the runner declares it reads, as the run saw it. */
  readonly fields: Readonly<Record<string, number | null>>;
  /** The upstream results the run could read, by task. */
  readonly upstream: Readonly<Record<string, UpstreamResult>>;
}

/** Characters of a fingerprint (hex of a SHA-256): enough to tell two runs' inputs apart at a glance. */
export const FINGERPRINT_LENGTH = 12;

/**
 * The tasks whose results a run of `task` may read: those it waits on to reach a status (not those it only
 * waits to see "not processed"), directly or through others, in workflow order.
 */
export const inputTasks = (workflow: Workflow, task: string): string[] => {
  const found = new Set<string>();
  const visit = (of: string) => {
    const spec = workflow.specs.get(of);
    for (const on of spec ? dependencyEdges(spec) : []) {
      if (found.has(on) || on === task) continue;
      found.add(on);
      visit(on);
    }
  };
  visit(task);
  return workflow.order.filter((each) => found.has(each));
};

const fieldValues = (transient: Transient, fields: readonly TransientField[]): Record<string, number | null> => {
  const values: Record<string, number | null> = {};
  for (const field of [...fields].sort()) {
    if (field === TransientField.Coordinates) Object.assign(values, { raDeg: transient.raDeg, decDeg: transient.decDeg });
    if (field === TransientField.Redshift) values.redshift = transient.redshift ?? null;
  }
  return values;
};

/** The inputs a run of `task` would have on this transient as its registers stand (what a claim records). */
export const runInputs = (workflow: Workflow, current: CurrentTask | undefined, transient: Transient, registers: Registers, task: string): RunInputs => {
  const upstream: Record<string, UpstreamResult> = {};
  for (const on of inputTasks(workflow, task)) {
    const register = registers[on];
    if (register?.claim === undefined) continue;
    upstream[on] = { run: register.claim, ...(register.version === undefined ? {} : { version: register.version }) };
  }
  return { fields: fieldValues(transient, current?.fields ?? []), upstream };
};

/** A short, stable digest of a run's inputs (key order does not matter). */
export const fingerprintOf = (inputs: RunInputs): string => {
  const upstream = Object.keys(inputs.upstream)
    .sort()
    .map((task) => [task, inputs.upstream[task]?.run, inputs.upstream[task]?.version ?? null]);
  const fields = Object.keys(inputs.fields)
    .sort()
    .map((field) => [field, inputs.fields[field]]);
  return createHash('sha256').update(JSON.stringify({ fields, upstream })).digest('hex').slice(0, FINGERPRINT_LENGTH);
};

export const StaleKind = {
  /** The task's version is not the one its result was made with. */
  Version: 'version',
  /** An upstream result the run used was superseded by a later run of that task. */
  UpstreamRerun: 'upstream re-run',
  /** An upstream result the run used is itself stale. */
  UpstreamStale: 'upstream stale',
  /** The transient data the runner reads changed since the run. */
  Inputs: 'inputs',
} as const;
export type StaleKind = (typeof StaleKind)[keyof typeof StaleKind];

export interface StaleReason {
  readonly kind: StaleKind;
  /** The upstream task, for the upstream kinds. */
  readonly upstream?: string;
  /** One line for an operator: "version changed from 1 to 2", "upstream Host match is stale". */
  readonly message: string;
}

/** The inputs recorded by the runs whose results the registers hold (their history records), by task. */
export type RecordedInputs = ReadonlyMap<string, RunInputs>;

/**
 * The stale tasks of one transient, each with why, in workflow order; a task not in the map is not stale.
 *
 * Only finished results (a success or an error status) can be stale, and only those recorded with a version
 * (results from before versions were recorded are taken as they are). A result is stale when
 * - its task's current version (`current`, from {@link currentTasks}) differs from the one its register recorded;
 * - given the inputs its run recorded (`recorded`, from its history record; a bulk caller may leave them out and
 *   read only the transient's item): an upstream result it used was superseded by another run ("upstream T was
 *   re-run (run R superseded)"), or the transient data its runner reads changed;
 * - a task it waits on for a result (a prerequisite other than "not processed") is stale.
 * So changing a task's version makes it stale, and with it exactly the tasks downstream that used its result.
 */
export const staleTasks = (
  workflow: Workflow,
  current: ReadonlyMap<string, CurrentTask>,
  record: { readonly transient: Transient; readonly registers: Registers },
  recorded: RecordedInputs = new Map(),
): ReadonlyMap<string, readonly StaleReason[]> => {
  const stale = new Map<string, StaleReason[]>();
  const { registers, transient } = record;
  for (const task of workflow.order) {
    const register = registers[task];
    const spec = workflow.specs.get(task);
    const now = current.get(task);
    if (!register || !spec || !now || register.version === undefined) continue;
    if (!isFinalType(statusTypeOf(workflow.catalog, register.status))) continue;
    const reasons: StaleReason[] = [];
    if (register.version !== now.version) {
      reasons.push({ kind: StaleKind.Version, message: `version changed from ${register.version} to ${now.version}` });
    }
    const inputs = recorded.get(task);
    if (inputs) {
      const today = runInputs(workflow, now, transient, registers, task);
      for (const [on, used] of Object.entries(inputs.upstream)) {
        const holds = today.upstream[on]?.run;
        if (holds !== used.run) {
          reasons.push({ kind: StaleKind.UpstreamRerun, upstream: on, message: `upstream ${on} was re-run (run ${used.run} superseded${holds ? ` by ${holds}` : ''})` });
        }
      }
      const changed = Object.keys({ ...inputs.fields, ...today.fields }).filter((field) => inputs.fields[field] !== today.fields[field]);
      if (changed.length > 0) reasons.push({ kind: StaleKind.Inputs, message: `the transient's ${changed.join(', ')} changed since it ran` });
    }
    for (const on of dependencyEdges(spec)) {
      if (stale.has(on)) reasons.push({ kind: StaleKind.UpstreamStale, upstream: on, message: `upstream ${on} is stale` });
    }
    if (reasons.length > 0) stale.set(task, reasons);
  }
  return stale;
};
