/**
 * The workflow graph (the registry's, as the CLI's `graph` draws it: lib/domain/graph.ts's edges), laid out in
 * rows by depth, top to bottom, and coloured by one transient's statuses.
 */
import type { Cell, WorkflowBody } from '../../lib/web/schemas';
import { coloursOf } from './format';

const NODE_W = 214;
const NODE_H = 44;
const GAP_X = 24;
const GAP_Y = 34;

interface Placed {
  readonly task: string;
  readonly x: number;
  readonly y: number;
}

/** Each task's row: one more than its deepest prerequisite's (tasks come in topological order); each row centred. */
const layout = (workflow: WorkflowBody): { nodes: Map<string, Placed>; width: number; height: number } => {
  const depth = new Map<string, number>();
  for (const task of workflow.tasks) {
    const ins = workflow.edges.filter((edge) => edge.to === task.name).map((edge) => (depth.get(edge.from) ?? 0) + 1);
    depth.set(task.name, Math.max(0, ...ins));
  }
  const rows = new Map<number, string[]>();
  for (const task of workflow.tasks) {
    const row = depth.get(task.name) ?? 0;
    rows.set(row, [...(rows.get(row) ?? []), task.name]);
  }
  const widest = Math.max(1, ...[...rows.values()].map((tasks) => tasks.length));
  const width = widest * (NODE_W + GAP_X) - GAP_X;
  const nodes = new Map<string, Placed>();
  for (const [row, tasks] of rows) {
    const offset = (width - (tasks.length * (NODE_W + GAP_X) - GAP_X)) / 2;
    tasks.forEach((task, index) => nodes.set(task, { task, x: offset + index * (NODE_W + GAP_X), y: row * (NODE_H + GAP_Y) }));
  }
  return { nodes, width, height: rows.size * (NODE_H + GAP_Y) - GAP_Y };
};

export const WorkflowGraph = ({ workflow, cells }: { workflow: WorkflowBody; cells: readonly Cell[] }) => {
  const { nodes, width, height } = layout(workflow);
  const cellOf = new Map(workflow.tasks.map((task, index) => [task.name, cells[index]]));
  const pad = 8;
  return (
    <svg class="graph" data-testid="graph" viewBox={`${-pad} ${-pad} ${width + 2 * pad} ${height + 2 * pad}`} width={width + 2 * pad} height={height + 2 * pad} role="img" aria-label="workflow graph">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#8c959f" />
        </marker>
      </defs>
      {workflow.edges.map((edge) => {
        const from = nodes.get(edge.from);
        const to = nodes.get(edge.to);
        if (!from || !to) return null;
        const x1 = from.x + NODE_W / 2;
        const y1 = from.y + NODE_H;
        const x2 = to.x + NODE_W / 2;
        const y2 = to.y;
        const bend = Math.max(16, (y2 - y1) / 2);
        return (
          <g>
            <path d={`M ${x1} ${y1} C ${x1} ${y1 + bend}, ${x2} ${y2 - bend}, ${x2} ${y2 - 2}`} fill="none" stroke="#8c959f" stroke-width="1.3" marker-end="url(#arrow)" />
            {edge.status !== 'processed' && (
              <text x={(x1 + x2) / 2 + 4} y={(y1 + y2) / 2} class="edge-label" text-anchor="start">
                {edge.status}
              </text>
            )}
          </g>
        );
      })}
      {[...nodes.values()].map((node) => {
        const cell = cellOf.get(node.task);
        const colours = coloursOf(cell ?? { type: 'blank' });
        return (
          <g data-task={node.task} data-type={cell?.blocked ? 'blocked' : cell?.type} transform={`translate(${node.x} ${node.y})`}>
            <title>{`${node.task}: ${cell?.status ?? ''}${cell?.blocked ? ' (blocked)' : ''}`}</title>
            <rect width={NODE_W} height={NODE_H} rx="7" fill={colours.fill} stroke={colours.stroke} stroke-width="1.5" />
            <text x={NODE_W / 2} y="19" text-anchor="middle" class="node-title" fill={colours.text}>
              {node.task}
            </text>
            <text x={NODE_W / 2} y="36" text-anchor="middle" class="node-status" fill={colours.text}>
              {cell ? `${cell.status}${cell.blocked ? ' · blocked' : ''}` : ''}
            </text>
          </g>
        );
      })}
    </svg>
  );
};
