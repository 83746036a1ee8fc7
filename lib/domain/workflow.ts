import { type Catalog, Status, StatusType, isFinalType, statusTypeOf } from './catalog';
import { Lane } from './lanes';

/** Task name → the status it must have (Blast's `_prerequisites()`). */
export type Prerequisites = Readonly<Record<string, string>>;

/** What the framework needs to know of a transient runner, normalised and validated. */
export interface TaskSpec {
  readonly task: string;
  /** Always contains the task itself as "not processed", as Blast's runners declare it. */
  readonly prerequisites: Prerequisites;
  readonly failedStatus: string;
}

/** One task's register for one transient (Blast's `TaskRegister`). */
export interface Register {
  readonly status: string;
  /** Epoch milliseconds of the last change. */
  readonly lastModified?: number;
  /** Wall-clock seconds of the last run, two decimals as in Blast. */
  readonly processingSeconds?: number;
  /** Delivery attempt of the current or last run (the SQS receive count). */
  readonly attempt?: number;
  /**
   * The claim token of the run holding the task while it is "processing", kept once it has finished: unique to
   * one invocation (`<message id prefix>.<random>`, lib/engine/worker.ts), so that two invocations of the same
   * SQS record never share it. Every later write of the run is conditioned on it.
   */
  readonly claim?: string;
  /** Epoch milliseconds after which a "processing" claim is known dead and may be taken over. */
  readonly leaseUntil?: number;
  /** The last error, kept while a retry waits and after a failure. */
  readonly lastError?: string;
  /** Set when the dead-letter handler recorded this status; a redriven message may claim the task again. */
  readonly deadLettered?: boolean;
  /**
   * Epoch milliseconds until which a retry is waiting: only the message that failed (its claim) may take the
   * task before then, so another copy of it cannot skip the backoff.
   */
  readonly retryAt?: number;
  /** Incremented by every reset of this register (absent is 0); messages carry the generation they were sent for. */
  readonly generation?: number;
  /** The task's version the run ran with (lib/domain/declaration.ts `version`); its inputs are in its history record. */
  readonly version?: string;
  /**
   * Set on a register a backfill reset (lib/engine/backfill.ts): its readiness goes through the backfill lane's
   * ready markers, never straight to the queue. Absent is live; a claim or any other reset drops it.
   */
  readonly lane?: typeof Lane.Backfill;
}

export type Registers = Readonly<Record<string, Register | undefined>>;

/**
 * A claim token names the message whose delivery holds a task: `<message id prefix>.<random>`
 * (lib/engine/worker.ts). The message part lets a redelivery, a waiting retry and the dead-letter handler
 * recognise their own message's work; the random part tells one invocation from another.
 */
export const messageOfClaim = (claim: string): string => claim.split('.')[0] ?? claim;

/** The generation of a task's register (resets increment it). */
export const generationOf = (registers: Registers, task: string): number => registers[task]?.generation ?? 0;

/** A new transient's register: "not processed" at `now`, generation 0. */
export const freshRegister = (now: number): Register => ({ status: Status.NotProcessed, lastModified: now });

/**
 * A register reset to "not processed" at `now`, dropping any claim (a run still going can then record nothing),
 * one generation on from `previous` (so messages sent before the reset can no longer claim it).
 */
export const resetRegister = (now: number, previous: Register | undefined, lane: Lane = Lane.Live): Register => ({
  status: Status.NotProcessed,
  lastModified: now,
  generation: (previous?.generation ?? 0) + 1,
  ...(lane === Lane.Backfill ? { lane } : {}),
});

/** The lane a register's readiness travels in. */
export const laneOf = (registers: Registers, task: string): Lane => registers[task]?.lane ?? Lane.Live;

export const ProcessingStatus = {
  Processing: 'processing',
  Blocked: 'blocked',
  Completed: 'completed',
} as const;
export type ProcessingStatus = (typeof ProcessingStatus)[keyof typeof ProcessingStatus];
export const processingStatuses = Object.values(ProcessingStatus);

/** A register that does not exist reads "not processed": tasks added later need no migration. */
export const statusOf = (registers: Registers, task: string): string => registers[task]?.status ?? Status.NotProcessed;

export interface Workflow {
  readonly catalog: Catalog;
  readonly specs: ReadonlyMap<string, TaskSpec>;
  /** Tasks in a topological order of their prerequisites (fixture order breaks ties). */
  readonly order: readonly string[];
  /** Task → the tasks whose prerequisites name it: the only ones a change to it can make ready. */
  readonly dependents: ReadonlyMap<string, readonly string[]>;
}

/** An ordering edge: `task` waits for `on` to reach a status other than "not processed". */
export const dependencyEdges = (spec: TaskSpec): string[] =>
  Object.entries(spec.prerequisites)
    .filter(([on, wanted]) => on !== spec.task && wanted !== Status.NotProcessed)
    .map(([on]) => on);

/** Kahn's algorithm; tasks caught in a cycle are returned in `cyclic`. */
export const topologicalOrder = (
  tasks: readonly string[],
  specs: ReadonlyMap<string, TaskSpec>,
): { order: string[]; cyclic: string[] } => {
  const waitingOn = new Map(
    tasks.map((task) => {
      const spec = specs.get(task);
      return [task, new Set(spec ? dependencyEdges(spec) : [])];
    }),
  );
  const order: string[] = [];
  let progressed = true;
  while (progressed) {
    progressed = false;
    for (const task of tasks) {
      const waits = waitingOn.get(task);
      if (!waits || [...waits].some((on) => waitingOn.has(on))) continue;
      waitingOn.delete(task);
      order.push(task);
      progressed = true;
    }
  }
  return { order, cyclic: [...waitingOn.keys()] };
};

export const buildWorkflow = (catalog: Catalog, specList: readonly TaskSpec[]): Workflow => {
  const specs = new Map(specList.map((spec) => [spec.task, spec]));
  const { order, cyclic } = topologicalOrder([...catalog.tasks.keys()], specs);
  const dependents = new Map<string, string[]>();
  for (const spec of specList) {
    for (const on of Object.keys(spec.prerequisites)) {
      if (on === spec.task) continue;
      dependents.set(on, [...(dependents.get(on) ?? []), spec.task]);
    }
  }
  return { catalog, specs, order: [...order, ...cyclic], dependents };
};

/** Blast's readiness test: every prerequisite holds (the task's own "not processed" included). */
export const isReady = (spec: TaskSpec, registers: Registers): boolean =>
  Object.entries(spec.prerequisites).every(([task, wanted]) => statusOf(registers, task) === wanted);

export const readyTasks = (workflow: Workflow, registers: Registers): string[] =>
  workflow.order.filter((task) => {
    const spec = workflow.specs.get(task);
    return spec !== undefined && isReady(spec, registers);
  });

/** Ready tasks whose register no message holds (a waiting retry is held by the message that failed). */
export const unheldReadyTasks = (workflow: Workflow, registers: Registers): string[] =>
  readyTasks(workflow, registers).filter((task) => registers[task]?.claim === undefined);

/** Every task `task` waits on, directly or through others: the tasks whose results its run may read. */
export const upstreamTasks = (workflow: Workflow, task: string): string[] => {
  const found = new Set<string>();
  const visit = (of: string) => {
    for (const on of Object.keys(workflow.specs.get(of)?.prerequisites ?? {})) {
      if (on === of || found.has(on) || on === task) continue;
      found.add(on);
      visit(on);
    }
  };
  visit(task);
  return workflow.order.filter((each) => found.has(each));
};

/** `task` and every task after it (its dependents, theirs, and so on), in workflow order: what a backfill of `task` resets. */
export const downstreamTasks = (workflow: Workflow, task: string): string[] => {
  const found = new Set([task]);
  for (const each of workflow.order) {
    const spec = workflow.specs.get(each);
    if (spec && dependencyEdges(spec).some((on) => found.has(on))) found.add(each);
  }
  return workflow.order.filter((each) => found.has(each));
};

/** The only tasks a change to `task`'s register can make ready: itself and its dependents. */
export const tasksAChangeCanMakeReady = (workflow: Workflow, task: string): string[] => [task, ...(workflow.dependents.get(task) ?? [])];

/**
 * Tasks that `after` makes ready and `before` did not, looking only at the dependents of the tasks that
 * changed. Computed on the stored post-image, so two siblings finishing together cannot both miss a join.
 */
export const newlyReady = (workflow: Workflow, before: Registers, after: Registers, changed: readonly string[]): string[] => {
  const candidates = new Set(changed.flatMap((task) => tasksAChangeCanMakeReady(workflow, task)));
  return workflow.order.filter((task) => {
    const spec = workflow.specs.get(task);
    return candidates.has(task) && spec !== undefined && isReady(spec, after) && !isReady(spec, before);
  });
};

/**
 * Unprocessed tasks that can never run until someone resets a register: some prerequisite has settled on
 * another status (or waits on a task that is itself stuck). Maps each to the settled tasks behind it.
 */
export const blockedTasks = (workflow: Workflow, registers: Registers): Map<string, string[]> => {
  const { catalog } = workflow;
  const blocked = new Map<string, string[]>();
  for (const task of workflow.order) {
    const spec = workflow.specs.get(task);
    if (!spec || statusTypeOf(catalog, statusOf(registers, task)) !== StatusType.Blank) continue;
    const causes = new Set<string>();
    for (const [on, wanted] of Object.entries(spec.prerequisites)) {
      if (on === task) continue;
      const status = statusOf(registers, on);
      if (status === wanted) continue;
      const upstream = blocked.get(on);
      if (upstream) upstream.forEach((cause) => causes.add(cause));
      else if (isFinalType(statusTypeOf(catalog, status))) causes.add(on);
    }
    if (causes.size > 0) blocked.set(task, [...causes]);
  }
  return blocked;
};

/** Tasks that may still change without an operator: blank and not blocked (Blast counts running ones as done). */
const remainingTasks = (workflow: Workflow, registers: Registers, blocked: ReadonlyMap<string, unknown>): string[] =>
  workflow.order.filter(
    (task) => statusTypeOf(workflow.catalog, statusOf(registers, task)) === StatusType.Blank && !blocked.has(task),
  );

/** Blast's `get_progress`: the share of tasks no longer waiting to run, blocked ones counted as done. */
export const progressPercent = (workflow: Workflow, registers: Registers): number => {
  const total = workflow.order.length;
  if (total === 0) return 0;
  const remaining = remainingTasks(workflow, registers, blockedTasks(workflow, registers)).length;
  return Math.round(100 * (1 - remaining / total));
};

/**
 * Blast's `get_processing_status`: completed when every task is processed; blocked once nothing can run
 * any more and something did not succeed; processing otherwise (work is running or still possible).
 */
export const processingStatus = (workflow: Workflow, registers: Registers): ProcessingStatus => {
  const { catalog } = workflow;
  const types = workflow.order.map((task) => statusTypeOf(catalog, statusOf(registers, task)));
  if (types.every((type) => type === StatusType.Success)) return ProcessingStatus.Completed;
  if (types.some((type) => type === StatusType.Warning)) return ProcessingStatus.Processing;
  const remaining = remainingTasks(workflow, registers, blockedTasks(workflow, registers));
  return remaining.length > 0 ? ProcessingStatus.Processing : ProcessingStatus.Blocked;
};

/** Progress and processing status together, as the CLI and the local runtime show them. */
export const summarise = (workflow: Workflow, registers: Registers) => ({
  progress: progressPercent(workflow, registers),
  processingStatus: processingStatus(workflow, registers),
  blocked: blockedTasks(workflow, registers),
});
