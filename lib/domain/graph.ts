/**
 * The workflow diagram, generated from the validated registry so that it is always current (Blast hid its
 * hand-drawn one once the workflow outgrew it). Drawn as Mermaid or Graphviz DOT, optionally coloured by
 * one transient's registers.
 */
import { Status, StatusType, statusTypeOf } from './catalog';
import { type Registers, type Workflow, blockedTasks, dependencyEdges, statusOf } from './workflow';

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** The status `to` needs `from` to have. */
  readonly status: string;
}

export interface WorkflowGraph {
  /** Every task, in the workflow's topological order. */
  readonly nodes: readonly string[];
  readonly edges: readonly GraphEdge[];
}

export const graphFormats = ['mermaid', 'dot'] as const;
export type GraphFormat = (typeof graphFormats)[number];

/** Tasks that `task` waits for, directly or through others. */
const ancestorsByTask = (workflow: Workflow): Map<string, Set<string>> => {
  const ancestors = new Map<string, Set<string>>();
  for (const task of workflow.order) {
    const spec = workflow.specs.get(task);
    const all = new Set<string>();
    for (const on of spec ? dependencyEdges(spec) : []) {
      all.add(on);
      ancestors.get(on)?.forEach((upstream) => all.add(upstream));
    }
    ancestors.set(task, all);
  }
  return ancestors;
};

/**
 * The ordering edges of the registry (a prerequisite on another task with a status other than "not
 * processed"). Blast's runners list every ancestor as "processed"; an edge implied by a path through
 * another prerequisite is left out so the diagram stays readable. Edges needing another status are kept.
 */
export const workflowGraph = (workflow: Workflow): WorkflowGraph => {
  const ancestors = ancestorsByTask(workflow);
  const edges: GraphEdge[] = [];
  for (const task of workflow.order) {
    const spec = workflow.specs.get(task);
    if (!spec) continue;
    const direct = dependencyEdges(spec);
    for (const from of direct) {
      const status = spec.prerequisites[from] ?? Status.Processed;
      const implied = direct.some((other) => other !== from && ancestors.get(other)?.has(from));
      if (status === Status.Processed && implied) continue;
      edges.push({ from, to: task, status });
    }
  }
  return { nodes: workflow.order, edges };
};

/** How each task is drawn for one transient: its status, the status's type, and whether it is blocked. */
interface NodeState {
  readonly status: string;
  readonly type: StatusType | 'blocked';
}

const nodeStates = (workflow: Workflow, registers: Registers): Map<string, NodeState> => {
  const blocked = blockedTasks(workflow, registers);
  return new Map(
    workflow.order.map((task) => {
      const status = statusOf(registers, task);
      return [task, { status, type: blocked.has(task) ? 'blocked' : (statusTypeOf(workflow.catalog, status) ?? StatusType.Blank) }];
    }),
  );
};

/** Fill, stroke and text colours per status type (GitHub's light palette): the diagrams' and the web view's. */
export const statusPalette: Record<StatusType | 'blocked', { fill: string; stroke: string; text: string }> = {
  [StatusType.Success]: { fill: '#dafbe1', stroke: '#1a7f37', text: '#0f5323' },
  [StatusType.Error]: { fill: '#ffebe9', stroke: '#cf222e', text: '#82071e' },
  [StatusType.Warning]: { fill: '#fff8c5', stroke: '#9a6700', text: '#4d2d00' },
  [StatusType.Blank]: { fill: '#f6f8fa', stroke: '#8c959f', text: '#24292f' },
  blocked: { fill: '#eaeef2', stroke: '#8c959f', text: '#6e7781' },
};

const mermaidIds = (nodes: readonly string[]): Map<string, string> => {
  const ids = new Map<string, string>();
  const taken = new Set<string>();
  for (const task of nodes) {
    const base = task.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '') || 'task';
    let id = base;
    for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
    taken.add(id);
    ids.set(task, id);
  }
  return ids;
};

const mermaidText = (text: string) => text.replace(/"/g, '#quot;');

export const renderMermaid = (workflow: Workflow, registers?: Registers): string => {
  const graph = workflowGraph(workflow);
  const ids = mermaidIds(graph.nodes);
  const states = registers ? nodeStates(workflow, registers) : undefined;
  const id = (task: string) => ids.get(task) ?? task;
  const lines = ['flowchart LR'];
  for (const task of graph.nodes) {
    const state = states?.get(task);
    const label = state ? `${task}<br/><i>${state.status}${state.type === 'blocked' ? ' · blocked' : ''}</i>` : task;
    lines.push(`  ${id(task)}["${mermaidText(label)}"]`);
  }
  for (const edge of graph.edges) {
    const label = edge.status === Status.Processed ? '' : `|"${mermaidText(edge.status)}"|`;
    lines.push(`  ${id(edge.from)} -->${label} ${id(edge.to)}`);
  }
  if (states) {
    const used = [...new Set([...states.values()].map((state) => state.type))];
    for (const type of used) {
      const colours = statusPalette[type];
      lines.push(`  classDef ${type} fill:${colours.fill},stroke:${colours.stroke},color:${colours.text}`);
      const members = graph.nodes.filter((task) => states.get(task)?.type === type).map(id);
      lines.push(`  class ${members.join(',')} ${type}`);
    }
  }
  return `${lines.join('\n')}\n`;
};

const dotEscape = (text: string) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
const dotText = (text: string) => `"${dotEscape(text)}"`;

export const renderDot = (workflow: Workflow, registers?: Registers): string => {
  const graph = workflowGraph(workflow);
  const states = registers ? nodeStates(workflow, registers) : undefined;
  const blank = statusPalette[StatusType.Blank];
  const lines = [
    'digraph workflow {',
    '  rankdir=LR;',
    `  node [shape=box, style="rounded,filled", fontname="Helvetica", fillcolor="${blank.fill}", color="${blank.stroke}"];`,
  ];
  for (const task of graph.nodes) {
    const state = states?.get(task);
    if (!state) {
      lines.push(`  ${dotText(task)};`);
      continue;
    }
    const colours = statusPalette[state.type];
    // \n in a DOT string is a line break.
    const label = `"${dotEscape(task)}\\n${dotEscape(state.status)}${state.type === 'blocked' ? ' · blocked' : ''}"`;
    lines.push(`  ${dotText(task)} [label=${label}, fillcolor="${colours.fill}", color="${colours.stroke}", fontcolor="${colours.text}"];`);
  }
  for (const edge of graph.edges) {
    const label = edge.status === Status.Processed ? '' : ` [label=${dotText(edge.status)}]`;
    lines.push(`  ${dotText(edge.from)} -> ${dotText(edge.to)}${label};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
};

export const renderGraph = (format: GraphFormat, workflow: Workflow, registers?: Registers): string =>
  format === 'dot' ? renderDot(workflow, registers) : renderMermaid(workflow, registers);
