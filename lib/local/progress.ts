/** What `npm start` shows: per-task counts while the pipeline runs, and every transient at the end. */
import { StatusType, statusTypeOf } from '../domain/catalog';
import { ProcessingStatus, type Workflow, statusOf, summarise } from '../domain/workflow';
import type { TransientRecord } from '../engine/store';
import { colorByProcessingStatus, colors } from '../terminal/colors';

export interface TaskCounts {
  waiting: number;
  running: number;
  processed: number;
  failed: number;
}

export const countByTask = (workflow: Workflow, records: readonly TransientRecord[]): Map<string, TaskCounts> => {
  const counts = new Map(workflow.order.map((task) => [task, { waiting: 0, running: 0, processed: 0, failed: 0 }]));
  for (const record of records) {
    for (const task of workflow.order) {
      const type = statusTypeOf(workflow.catalog, statusOf(record.registers, task));
      const count = counts.get(task);
      if (!count) continue;
      if (type === StatusType.Success) count.processed++;
      else if (type === StatusType.Error) count.failed++;
      else if (type === StatusType.Warning) count.running++;
      else count.waiting++;
    }
  }
  return counts;
};

export const countByProcessingStatus = (workflow: Workflow, records: readonly TransientRecord[]): Record<ProcessingStatus, number> => {
  const counts = { [ProcessingStatus.Processing]: 0, [ProcessingStatus.Blocked]: 0, [ProcessingStatus.Completed]: 0 };
  for (const record of records) counts[summarise(workflow, record.registers).processingStatus]++;
  return counts;
};

const pad = (text: string, width: number) => text.padEnd(width);
const padLeft = (value: number | string, width: number) => String(value).padStart(width);

export const renderTaskProgress = (workflow: Workflow, records: readonly TransientRecord[], elapsedMs: number): string[] => {
  const width = Math.max(4, ...workflow.order.map((task) => task.length));
  const lines = [colors.bold(`  ${pad('Task', width)}  waiting  running  processed  error`)];
  for (const [task, count] of countByTask(workflow, records)) {
    lines.push(
      `  ${pad(task, width)}  ${padLeft(count.waiting, 7)}  ${colors.yellow(padLeft(count.running, 7))}  ${colors.green(padLeft(count.processed, 9))}  ${(count.failed ? colors.red : colors.dim)(padLeft(count.failed, 5))}`,
    );
  }
  const status = countByProcessingStatus(workflow, records);
  lines.push(
    `  ${records.length} transients: ${colors.green(`${status.completed} completed`)} · ${colors.red(`${status.blocked} blocked`)} · ${colors.yellow(`${status.processing} processing`)}   ${colors.dim(`${(elapsedMs / 1000).toFixed(1)} s`)}`,
  );
  return lines;
};

/** One line per transient: progress, processing status, and what blocked it. */
export const renderTransientTable = (workflow: Workflow, records: readonly TransientRecord[]): string[] => {
  const sorted = [...records].sort((a, b) => a.transient.publicTimestamp.localeCompare(b.transient.publicTimestamp));
  const width = Math.max(9, ...sorted.map((record) => record.transient.name.length));
  const lines = [colors.bold(`  ${pad('Transient', width)}  progress  status      note`)];
  for (const record of sorted) {
    const { progress, processingStatus, blocked } = summarise(workflow, record.registers);
    const errors = workflow.order.filter((task) => statusTypeOf(workflow.catalog, statusOf(record.registers, task)) === StatusType.Error);
    const note = errors.map((task) => `${task}: ${statusOf(record.registers, task)}`).join('; ');
    const blockedNote = blocked.size > 0 ? ` (${blocked.size} task${blocked.size === 1 ? '' : 's'} blocked)` : '';
    lines.push(
      `  ${pad(record.transient.name, width)}  ${padLeft(`${progress}%`, 8)}  ${colorByProcessingStatus(processingStatus)(pad(processingStatus, 10))}  ${note ? colors.red(note) + colors.dim(blockedNote) : ''}`,
    );
  }
  return lines;
};
