/** `status NAME` and `list`: one transient's registers in workflow order, and transients by processing status. */
import { Status, StatusType, statusTypeOf } from '../domain/catalog';
import { type ProcessingStatus, type Register, type Workflow, isReady, statusOf, summarise } from '../domain/workflow';
import type { Engine } from '../engine/engine';
import { listTransients } from '../engine/operations';
import { renderTransientTable } from '../local/progress';
import { colorByProcessingStatus, colorByType, colors } from '../terminal/colors';
import type { TransientRecord } from '../engine/store';
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

/** The lines of `status NAME`. */
export const renderStatus = (workflow: Workflow, record: TransientRecord, now: number): string[] => {
  const { progress, processingStatus, blocked } = summarise(workflow, record.registers);
  const causes = [...new Set([...blocked.values()].flat())];
  const rows = workflow.order.map((task) => {
    const register = record.registers[task];
    const status = statusOf(record.registers, task);
    const type = statusTypeOf(workflow.catalog, status);
    const note = noteFor(workflow, record, task, blocked.get(task), now);
    return [
      task,
      { text: status, paint: colorByType(type) },
      formatTime(register?.lastModified),
      { text: formatSeconds(register?.processingSeconds), alignRight: true },
      { text: register?.attempt === undefined ? '' : String(register.attempt), alignRight: true },
      { text: note, paint: type === StatusType.Error || register?.deadLettered ? colors.red : colors.dim },
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
    ...renderTable(['Task', 'Status', 'Last modified', 'Time', 'Attempt', 'Note'], rows),
  ];
};

export const showStatus = async (engine: Engine, name: string, where: string): Promise<string[]> => {
  const record = await engine.store.transients.get(name);
  if (!record) throw unknownTransient(name, where);
  return renderStatus(engine.workflow, record, engine.clock());
};

export interface ListRequest {
  readonly statuses: readonly ProcessingStatus[];
  readonly limit: number;
  readonly after?: string;
}

/** The lines of `list`: one page, and how to ask for the next. */
export const showList = async (engine: Engine, request: ListRequest, command: string): Promise<string[]> => {
  const page = await listTransients(engine, request);
  const what = request.statuses.length ? `${request.statuses.join(' or ')} transients` : 'transients';
  if (page.records.length === 0) return [request.after ? `no more ${what}` : `no ${what}`];
  const lines = renderTransientTable(engine.workflow, page.records);
  if (page.next) {
    lines.push('', `${plural(page.records.length, 'transient')} shown, oldest first; more: ${command} --after '${page.next}'`);
  } else {
    lines.push('', `${plural(page.records.length, 'transient')}${request.after ? ' more' : ''}, oldest first`);
  }
  return lines;
};
