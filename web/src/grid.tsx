/** The grid: transients × tasks, each cell coloured by its status's type (as Airflow's grid), a page at a time. */
import { useState } from 'preact/hooks';
import type { TransientsBody, WorkflowBody } from '../../lib/web/schemas';
import { api, segment } from './api';
import { squareStyle } from './format';
import { usePoll } from './hooks';
import { loadWorkflow } from './workflow';

const PAGE_SIZE = 50;
const processingStatuses = ['processing', 'blocked', 'completed'] as const;
const statusTypes = ['success', 'warning', 'error', 'blank'] as const;
/** The "is" filter's choice that asks for stale results rather than a status type. */
const STALE = 'stale';

interface Filters {
  status: string;
  task: string;
  taskType: string;
  from: string;
  to: string;
}
const noFilters: Filters = { status: '', task: '', taskType: '', from: '', to: '' };

/** A date input's day as the API's time (midnight UTC), or undefined. */
const dayToIso = (day: string) => (day ? `${day}T00:00:00Z` : undefined);

export const Grid = () => {
  const [filters, setFilters] = useState<Filters>(noFilters);
  /** The `after` of each page shown before this one (Back pops it). */
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const query = {
    limit: PAGE_SIZE,
    after,
    status: filters.status || undefined,
    task: filters.task && filters.taskType && filters.taskType !== STALE ? filters.task : undefined,
    taskType: filters.task && filters.taskType && filters.taskType !== STALE ? filters.taskType : undefined,
    stale: filters.task && filters.taskType === STALE ? filters.task : undefined,
    from: dayToIso(filters.from),
    to: dayToIso(filters.to),
  };
  const workflow = usePoll('workflow', () => loadWorkflow(), 0);
  const page = usePoll(JSON.stringify(query), (signal) => api<TransientsBody>('GET', '/transients', { query, signal }));
  const set = (change: Partial<Filters>) => {
    setFilters({ ...filters, ...change });
    setCursors([]);
  };
  const tasks = workflow.data?.tasks ?? [];

  return (
    <section>
      <h1>Transients</h1>
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <label>
          Status{' '}
          <select data-testid="filter-status" value={filters.status} onChange={(event) => set({ status: event.currentTarget.value })}>
            <option value="">any</option>
            {processingStatuses.map((status) => (
              <option value={status}>{status}</option>
            ))}
          </select>
        </label>
        <label>
          Task{' '}
          <select data-testid="filter-task" value={filters.task} onChange={(event) => set({ task: event.currentTarget.value })}>
            <option value="">any</option>
            {tasks.map((task) => (
              <option value={task.name}>{task.name}</option>
            ))}
          </select>
        </label>
        <label>
          is{' '}
          <select data-testid="filter-task-type" value={filters.taskType} onChange={(event) => set({ taskType: event.currentTarget.value })}>
            <option value="">any</option>
            {statusTypes.map((type) => (
              <option value={type}>{type}</option>
            ))}
            <option value={STALE}>stale</option>
          </select>
        </label>
        <label>
          Public from <input type="date" value={filters.from} onChange={(event) => set({ from: event.currentTarget.value })} />
        </label>
        <label>
          to <input type="date" value={filters.to} onChange={(event) => set({ to: event.currentTarget.value })} />
        </label>
      </form>
      {page.error && <p class="note error">{page.error.message}</p>}
      {workflow.data && page.data ? <GridTable workflow={workflow.data} page={page.data} /> : !page.error && <p class="note">loading…</p>}
      <nav class="pager">
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Previous
        </button>
        <span class="note">
          page {cursors.length + 1}
          {page.data ? ` · ${page.data.items.length} transients` : ''}
        </span>
        <button type="button" data-testid="next-page" disabled={!page.data?.next} onClick={() => page.data?.next && setCursors([...cursors, page.data.next])}>
          Next →
        </button>
      </nav>
      <Legend />
    </section>
  );
};

const GridTable = ({ workflow, page }: { workflow: WorkflowBody; page: TransientsBody }) => {
  if (page.items.length === 0) return <p class="note">no transients{page.scanned ? ` among ${page.scanned} read` : ''}</p>;
  const stale = page.items.some((row) => row.staleReasons);
  return (
    <div class="grid-wrap">
      <table class="grid" data-testid="grid">
        <thead>
          <tr>
            <th class="name">Transient</th>
            <th>Status</th>
            <th class="num">%</th>
            {workflow.tasks.map((task) => (
              <th class="task" title={task.name}>
                <span>{task.name}</span>
              </th>
            ))}
            {stale && <th class="name">Why stale</th>}
          </tr>
        </thead>
        <tbody>
          {page.items.map((row) => (
            <tr data-name={row.name} key={row.name}>
              <td class="name">
                <a href={`#/transients/${segment(row.name)}`}>{row.name}</a>
              </td>
              <td>
                <span class={`badge ${row.processingStatus}`}>{row.processingStatus}</span>
              </td>
              <td class="num">{row.progress}</td>
              {row.cells.map((cell, index) => (
                <td class="cell">
                  <a
                    href={`#/transients/${segment(row.name)}`}
                    class="square"
                    data-task={workflow.tasks[index]?.name}
                    data-type={cell.blocked ? 'blocked' : cell.type}
                    data-status={cell.status}
                    style={squareStyle(cell)}
                    title={`${row.name} · ${workflow.tasks[index]?.name}: ${cell.status}${cell.blocked ? ' (blocked)' : ''}`}
                  />
                </td>
              ))}
              {stale && <td class="note why-stale">{row.staleReasons?.join('; ')}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
};

export const Legend = () => (
  <p class="legend">
    {(['success', 'warning', 'error', 'blank'] as const).map((type) => (
      <span>
        <i class="square" style={squareStyle({ type })} /> {type === 'warning' ? 'warning · processing' : type === 'blank' ? 'not processed' : type}
      </span>
    ))}
    <span>
      <i class="square" style={squareStyle({ type: 'blank', blocked: true })} /> blocked
    </span>
  </p>
);
