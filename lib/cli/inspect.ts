/** `status NAME` and `list`: one transient's registers in workflow order, and transients by processing status. */
import { Status, StatusType, statusTypeOf } from '../domain/catalog';
import { type ProcessingStatus, type Register, type Workflow, isReady, statusOf, summarise } from '../domain/workflow';
import type { Engine } from '../engine/engine';
import { listTransients } from '../engine/operations';
import { renderTransientTable } from '../local/progress';
import { colorByProcessingStatus, colorByType, colors } from '../terminal/colors';
import type { RunRecord, TransientRecord } from '../engine/store';
import { currentTasksOf } from '../engine/attempts';
import { historyOf, staleOf, staleTransients } from '../engine/history';
import type { StaleReason } from '../domain/staleness';
import { CliError } from './errors';
import { formatSeconds, formatTime, plural, renderTable } from './render';

export const unknownTransient = (name: string, where: string) => new CliError(`unknown transient "${name}" in ${where}: ingest it first`);

/** What a register's status alone does not say: why it waits, why it failed, whether its run is alive. */
const noteFor = (workflow: Workflow, record: TransientRecord, task: string, blockedBy: readonly string[] | undefined, now: number): string => {
  const register: Register | undefined = record.registers[task];
  if (blockedBy) return `blocked by ${blockedBy.map((cause) => `${cause} (${statusOf(record.registers, cause)})`).join(', ')}`;
  const error = register?.lastError;
  if (register?.status === Status.Processing) {
    const lease = register.leaseUntil ?? 0;
    return lease >= now
      ? `running since ${formatTime(register.lastModified)}`
      : `its run died (lease ran out ${formatTime(lease)}): SQS redelivers it, or retrigger`;
  }
  if (register?.deadLettered) return `dead-lettered${error ? `: ${error}` : ''}`;
  if (statusOf(record.registers, task) === Status.NotProcessed) {
    const spec = workflow.specs.get(task);
    const ready = spec !== undefined && isReady(spec, record.registers);
    if (error) return `retrying after: ${error}`;
    return ready ? 'ready' : '';
  }
  return error ?? '';
};

const describeTransient = (record: TransientRecord): string => {
  const { transient } = record;
  const parts = [
    colors.bold(transient.name),
    `public ${transient.publicTimestamp}`,
    `ra ${transient.raDeg}`,
    `dec ${transient.decDeg}`,
    ...(transient.redshift === undefined ? [] : [`z ${transient.redshift}`]),
    ...(transient.spectroscopicClass ? [transient.spectroscopicClass] : []),
  ];
  return parts.join(' · ');
};

/** What `status NAME` knows of one task besides its register: its version now, why it is stale, its attempts. */
export interface Provenance {
  /** The version the task's next run records (the registry's). */
  readonly currentVersions: ReadonlyMap<string, string>;
  readonly stale: ReadonlyMap<string, readonly StaleReason[]>;
  /** The transient's attempts, from its run history. */
  readonly runs: readonly RunRecord[];
}

/** One task of `status NAME`, as `--json` prints it. */
export interface TaskStatus {
  readonly task: string;
  readonly status: string;
  readonly lastModified?: number;
  readonly processingSeconds?: number;
  readonly attempt?: number;
  /** The version its result was made with, and the task's version now. */
  readonly version?: string;
  readonly currentVersion?: string;
  readonly stale: boolean;
  readonly staleReasons: string[];
  /** Attempts in the run history, and the latest. */
  readonly attempts: number;
  readonly lastAttempt?: { readonly run: string; readonly status: string; readonly startedAt: number; readonly endedAt?: number };
  readonly note: string;
}

/** `status NAME` as data. */
export const statusOfTasks = (workflow: Workflow, record: TransientRecord, now: number, provenance?: Provenance): TaskStatus[] => {
  const { blocked } = summarise(workflow, record.registers);
  return workflow.order.map((task) => {
    const register = record.registers[task];
    const runs = (provenance?.runs ?? []).filter((run) => run.task === task);
    const latest = runs.reduce<RunRecord | undefined>((last, run) => (last === undefined || run.startedAt > last.startedAt ? run : last), undefined);
    const reasons = provenance?.stale.get(task) ?? [];
    const current = provenance?.currentVersions.get(task);
    return {
      task,
      status: statusOf(record.registers, task),
      ...(register?.lastModified === undefined ? {} : { lastModified: register.lastModified }),
      ...(register?.processingSeconds === undefined ? {} : { processingSeconds: register.processingSeconds }),
      ...(register?.attempt === undefined ? {} : { attempt: register.attempt }),
      ...(register?.version === undefined ? {} : { version: register.version }),
      ...(current === undefined ? {} : { currentVersion: current }),
      stale: reasons.length > 0,
      staleReasons: reasons.map((reason) => reason.message),
      attempts: runs.length,
      ...(latest ? { lastAttempt: { run: latest.run, status: latest.status, startedAt: latest.startedAt, ...(latest.endedAt === undefined ? {} : { endedAt: latest.endedAt }) } } : {}),
      note: noteFor(workflow, record, task, blocked.get(task), now),
    };
  });
};

/** The lines of `status NAME`. */
export const renderStatus = (workflow: Workflow, record: TransientRecord, now: number, provenance?: Provenance): string[] => {
  const { progress, processingStatus, blocked } = summarise(workflow, record.registers);
  const causes = [...new Set([...blocked.values()].flat())];
  const rows = statusOfTasks(workflow, record, now, provenance).map((view) => {
    const register = record.registers[view.task];
    const type = statusTypeOf(workflow.catalog, view.status);
    const note = [...(view.stale ? [`stale: ${view.staleReasons.join('; ')}`] : []), ...(view.note ? [view.note] : [])].join(' · ');
    return [
      view.task,
      { text: view.status, paint: colorByType(type) },
      formatTime(view.lastModified),
      { text: formatSeconds(view.processingSeconds), alignRight: true },
      { text: view.attempt === undefined ? '' : String(view.attempt), alignRight: true },
      view.version ?? '',
      { text: view.attempts === 0 ? '' : String(view.attempts), alignRight: true },
      { text: note, paint: type === StatusType.Error || register?.deadLettered || view.stale ? colors.red : colors.dim },
    ];
  });
  const summary = `progress ${progress}% · ${colorByProcessingStatus(processingStatus)(processingStatus)}`;
  const blockedLine =
    blocked.size > 0
      ? [`${plural(blocked.size, 'task')} blocked behind ${causes.map((cause) => `${cause} (${statusOf(record.registers, cause)})`).join(', ')}`]
      : [];
  return [
    describeTransient(record),
    summary,
    ...blockedLine,
    '',
    ...renderTable(['Task', 'Status', 'Last modified', 'Time', 'Attempt', 'Version', 'Runs', 'Note'], rows),
  ];
};

/** What `status NAME` shows, for a person (`lines`) and as data (`--json`). */
export const showStatus = async (engine: Engine, name: string, where: string): Promise<{ lines: string[]; data: unknown }> => {
  const [record, runs] = await Promise.all([engine.store.transients.get(name), historyOf(engine, name)]);
  if (!record) throw unknownTransient(name, where);
  const provenance: Provenance = {
    currentVersions: new Map([...currentTasksOf(engine)].map(([task, current]) => [task, current.version])),
    stale: staleOf(engine, record, runs),
    runs,
  };
  const now = engine.clock();
  const { progress, processingStatus, blocked } = summarise(engine.workflow, record.registers);
  return {
    lines: renderStatus(engine.workflow, record, now, provenance),
    data: { transient: record.transient, progress, processingStatus, blocked: Object.fromEntries(blocked), tasks: statusOfTasks(engine.workflow, record, now, provenance) },
  };
};

export interface ListRequest {
  readonly statuses: readonly ProcessingStatus[];
  readonly limit: number;
  readonly after?: string;
}

/** A transient of `list --json`. */
const listed = (workflow: Workflow, record: TransientRecord) => {
  const { progress, processingStatus } = summarise(workflow, record.registers);
  return { name: record.transient.name, publicTimestamp: record.transient.publicTimestamp, progress, processingStatus };
};

/** `list`: one page, and how to ask for the next; with `stale`, only the transients whose task `stale` is stale. */
export const showList = async (engine: Engine, request: ListRequest & { readonly stale?: string }, command: string): Promise<{ lines: string[]; data: unknown }> => {
  const { stale } = request;
  if (stale !== undefined && !engine.workflow.specs.has(stale)) throw new CliError(`unknown task "${stale}": no transient runner works on it`);
  let page: { records: TransientRecord[]; next?: string };
  let reasons: (readonly StaleReason[])[] | undefined;
  if (stale === undefined) page = await listTransients(engine, request);
  else {
    const found = await staleTransients(engine, stale, request);
    page = { records: found.entries.map((entry) => entry.record), ...(found.next === undefined ? {} : { next: found.next }) };
    reasons = found.entries.map((entry) => entry.reasons);
  }
  const data = {
    transients: page.records.map((record, index) => ({ ...listed(engine.workflow, record), ...(reasons ? { staleReasons: (reasons[index] ?? []).map((reason) => reason.message) } : {}) })),
    ...(page.next ? { next: page.next } : {}),
  };
  const what = `${request.statuses.length ? `${request.statuses.join(' or ')} transients` : 'transients'}${stale === undefined ? '' : ` whose ${stale} is stale`}`;
  if (page.records.length === 0) return { lines: [request.after ? `no more ${what}` : `no ${what}`], data };
  const lines = renderTransientTable(engine.workflow, page.records);
  if (reasons) {
    lines.push('', `${stale} is stale:`, ...page.records.map((record, index) => `  ${record.transient.name}: ${(reasons[index] ?? []).map((reason) => reason.message).join('; ')}`));
  }
  if (page.next) {
    lines.push('', `${plural(page.records.length, 'transient')} shown, oldest first; more: ${command} --after '${page.next}'`);
  } else {
    lines.push('', `${plural(page.records.length, 'transient')}${request.after ? ' more' : ''}, oldest first`);
  }
  return { lines, data };
};
