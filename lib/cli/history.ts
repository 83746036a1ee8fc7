/**
 * `history NAME [TASK]`: every attempt the run history holds for a transient's tasks — when, how long, what it came
 * to, with which version and inputs, where it logged — and with `--run`, one run's record and the output it saved
 * (kept per run, so the result of a run a reprocess superseded can still be read back).
 */
import { join, dirname } from 'node:path';
import type { Engine } from '../engine/engine';
import { historyOf } from '../engine/history';
import { logFileLocation, logGroupLocation } from '../engine/log-location';
import type { Invocation, RunRecord } from '../engine/store';
import { statusTypeOf } from '../domain/catalog';
import { colorByType, colors } from '../terminal/colors';
import { CliError } from './errors';
import { unknownTransient } from './inspect';
import { formatSeconds, formatTime, plural, renderTable } from './render';
import type { Target } from './target';

/** Where an attempt's log lines are: its CloudWatch Logs group and stream, or the local runtime's log file. */
export const logLocation = (invocation: Invocation | undefined, target: Target): string => {
  if (!invocation) return '';
  const locate = target.local ? logFileLocation(join(dirname(target.stateFile ?? '.blast-local/endpoints.json'), 'handlers.log')) : logGroupLocation;
  return locate(invocation).text;
};

const inOrder = (engine: Engine, runs: readonly RunRecord[]): RunRecord[] => {
  const order = new Map(engine.workflow.order.map((task, index) => [task, index]));
  return [...runs].sort((a, b) => (order.get(a.task) ?? 0) - (order.get(b.task) ?? 0) || b.startedAt - a.startedAt);
};

export interface HistoryRequest {
  readonly name: string;
  readonly task?: string;
  /** One run's record and saved output. */
  readonly run?: string;
}

/** What `history` shows, for a person (`lines`) and as data (`--json`). */
export const showHistory = async (engine: Engine, request: HistoryRequest, target: Target): Promise<{ lines: string[]; data: unknown }> => {
  const { name, task, run } = request;
  if (task !== undefined && !engine.workflow.specs.has(task)) throw new CliError(`unknown task "${task}": no transient runner works on it`);
  const [record, found] = await Promise.all([engine.store.transients.get(name), historyOf(engine, name, task)]);
  if (!record) throw unknownTransient(name, target.description);
  const runs = inOrder(engine, found).map((entry) => ({ ...entry, current: record.registers[entry.task]?.claim === entry.run, log: logLocation(entry.invocation, target) }));
  if (run !== undefined) {
    const one = runs.find((entry) => entry.run === run);
    if (!one) throw new CliError(`no run "${run}" in the history of ${name}${task ? ` ${task}` : ''}`);
    const output = await engine.store.outputs.read(name, one.task, one.run);
    const lines = [
      `${name} · ${one.task} · run ${one.run}${one.current ? ' (its result is the current one)' : ' (superseded)'}`,
      `  started ${formatTime(one.startedAt)}, ended ${formatTime(one.endedAt) || '—'}, ${one.status}${one.error ? `: ${one.error}` : ''}`,
      `  version ${one.version}, inputs ${one.fingerprint}: ${JSON.stringify(one.inputs)}`,
      ...(one.log ? [`  log ${one.log}`] : []),
      ...(one.artifacts?.length ? [`  artifacts ${one.artifacts.join(', ')}`] : []),
      `  output ${output?.data !== undefined ? JSON.stringify(output.data) : output?.spilled ? `(too large for an item: ${output.spilled.key})` : '(none saved)'}`,
    ];
    return { lines, data: { ...one, output: output ?? null } };
  }
  const data = { name, ...(task === undefined ? {} : { task }), runs };
  if (runs.length === 0) return { lines: [`no attempts recorded for ${name}${task ? ` ${task}` : ''} (history is kept for a set number of days)`], data };
  const rows = runs.map((entry) => [
    entry.task,
    formatTime(entry.startedAt),
    { text: entry.status, paint: colorByType(statusTypeOf(engine.workflow.catalog, entry.status)) },
    { text: formatSeconds(entry.durationMs === undefined ? undefined : entry.durationMs / 1000), alignRight: true },
    { text: String(entry.attempt), alignRight: true },
    entry.version,
    entry.fingerprint,
    `${entry.run}${entry.current ? ' *' : ''}`,
    { text: [entry.error, entry.log].filter(Boolean).join(' · '), paint: colors.dim },
  ]);
  return {
    lines: [
      `${name}: ${plural(runs.length, 'attempt')}${task ? ` of ${task}` : ''}, newest first (* the run whose result the register holds)`,
      '',
      ...renderTable(['Task', 'Started', 'Status', 'Time', 'Attempt', 'Version', 'Inputs', 'Run', 'Error and log'], rows),
    ],
    data,
  };
};
