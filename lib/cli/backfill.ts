/** `backfill TASK` and `backfill resume|cancel|status|list`: what a backfill did, as it goes and at its end. */
import { hostname } from 'node:os';
import { type BackfillState, BackfillStatus, type Selection, etaSeconds } from '../domain/backfill';
import { type Backfill, readBackfill, runBackfill } from '../engine/backfill';
import type { Engine } from '../engine/engine';
import { CliError } from './errors';

const describeSelection = (selection: Selection): string => {
  switch (selection.kind) {
    case 'all':
      return 'every transient';
    case 'names':
      return `${selection.names.length} named transient${selection.names.length === 1 ? '' : 's'}`;
    case 'time':
      return `transients ${selection.field === 'public' ? 'published' : 'created'}${selection.from ? ` from ${selection.from}` : ''}${selection.to ? ` before ${selection.to}` : ''}`;
    case 'processing-status':
      return `${selection.status} transients`;
    case 'task-status':
      return `transients whose "${selection.task}" is "${selection.status}"`;
    case 'stale':
      return 'transients whose result is stale';
  }
};

const duration = (seconds: number) => (seconds >= 3600 ? `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min` : seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`);

/** One line of progress: done / waiting / failed of the total, and the ETA at the rate so far. */
export const progressLine = (backfill: Backfill, now: number): string => {
  const { state } = backfill;
  const { done, failed } = state.counts;
  const eta = etaSeconds(state, now);
  const waiting = Math.max(0, state.total - done - failed - state.counts.missing);
  return `${backfill.id} ${state.status}: ${done} done · ${waiting} waiting (${state.active.length} running) · ${failed} failed of ${state.total}${
    state.status === BackfillStatus.Running && eta !== undefined ? ` · ETA ${duration(eta)}` : ''
  }`;
};

/** What the backfill is and where it stands, a few lines. */
export const describeBackfill = (backfill: Backfill, now: number): string[] => {
  const { state } = backfill;
  return [
    `backfill ${backfill.id}: "${state.task}" and after it (${state.tasks.join(', ')}) over ${describeSelection(state.selection)}`,
    `  pace        at most ${state.window} transient${state.window === 1 ? '' : 's'} at once (${state.share} of the smallest affected runner's concurrency)`,
    `  progress    ${progressLine(backfill, now)}`,
    ...summary(state),
  ];
};

const summary = (state: BackfillState): string[] => {
  if (state.status === BackfillStatus.Running) return [];
  const took = state.finishedAt === undefined ? '' : ` in ${duration(Math.round((state.finishedAt - state.createdAt) / 1000))}`;
  const { selected, reset, done, failed, missing } = state.counts;
  return [
    `  ${state.status === BackfillStatus.Finished ? 'finished' : 'cancelled'}${took}: ${reset} of ${selected} selected transients reset, ${done} done, ${failed} failed${missing ? `, ${missing} gone` : ''}${
      state.status === BackfillStatus.Cancelled && state.active.length ? `; ${state.active.length} reset ones still run to their end` : ''
    }`,
  ];
};

/** Drives a backfill to its end (or until interrupted), showing its progress on `stream`; returns the final view. */
export const driveBackfill = async (engine: Engine, backfill: Backfill, stream: NodeJS.WriteStream, signal?: AbortSignal): Promise<string[]> => {
  let shown = '';
  const show = (current: Backfill) => {
    const line = progressLine(current, engine.clock());
    if (line === shown) return;
    stream.write(stream.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
    shown = line;
  };
  show(backfill);
  const ended = await runBackfill(engine, backfill.id, { owner: `${hostname()}:${process.pid}`, onProgress: show, ...(signal ? { signal } : {}) });
  if (stream.isTTY) stream.write('\n');
  return describeBackfill(ended, engine.clock());
};

export const backfillById = async (engine: Engine, id: string): Promise<Backfill> => {
  const backfill = await readBackfill(engine, id);
  if (!backfill) throw new CliError(`no backfill "${id}" (\`backfill list\` shows them)`);
  return backfill;
};
