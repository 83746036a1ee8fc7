import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { registry } from '../../runners/registry';
import { WORKFLOW_DOC, withCurrentDiagram } from '../../lib/cli/graph';
import { renderDot, renderMermaid, workflowGraph } from '../../lib/domain/graph';
import { assertValidRegistry } from '../../lib/domain/validation';
import { dependencyEdges } from '../../lib/domain/workflow';
import { loadCatalog } from '../../lib/fixtures/load-catalog';
import { catalogOf, diamondRunners, registers, runner, workflowOf } from '../helpers/factories';

const diamond = workflowOf(diamondRunners());

describe('Function: workflowGraph', () => {
  it('draws one edge per prerequisite on another task, leaving out "not processed" ones', () => {
    const workflow = workflowOf([runner('A', {}), runner('B', { A: 'processed', C: 'not processed' }), runner('C', {})]);

    const graph = workflowGraph(workflow);

    expect(graph.nodes).toEqual(['A', 'B', 'C']);
    expect(graph.edges).toEqual([{ from: 'A', to: 'B', status: 'processed' }]);
  });

  it('leaves out an edge a path through another prerequisite implies, as Blast lists every ancestor', () => {
    const workflow = workflowOf([
      runner('A', {}),
      runner('B', { A: 'processed' }),
      runner('C', { A: 'processed', B: 'processed' }),
    ]);

    expect(workflowGraph(workflow).edges).toEqual([
      { from: 'A', to: 'B', status: 'processed' },
      { from: 'B', to: 'C', status: 'processed' },
    ]);
  });

  it('keeps an edge that needs another status than "processed", labelled with it', () => {
    const workflow = workflowOf(
      [runner('A', {}), runner('B', { A: 'processed' }), runner('Fallback', { A: 'no GHOST match', B: 'not processed' })],
      catalogOf(['A', 'B', 'Fallback']),
    );

    expect(workflowGraph(workflow).edges).toContainEqual({ from: 'A', to: 'Fallback', status: 'no GHOST match' });
    expect(renderMermaid(workflow)).toContain('a -->|"no GHOST match"| fallback');
    expect(renderDot(workflow)).toContain('"A" -> "Fallback" [label="no GHOST match"];');
  });

  it("keeps the example workflow's order: every registry dependency is an edge or a path of edges", () => {
    const workflow = assertValidRegistry(loadCatalog('fixtures'), registry);
    const graph = workflowGraph(workflow);
    const reachable = (from: string, to: string): boolean =>
      graph.edges.some((edge) => edge.from === from && (edge.to === to || reachable(edge.to, to)));

    for (const [task, spec] of workflow.specs) {
      for (const on of dependencyEdges(spec)) expect(reachable(on, task), `${on} → ${task}`).toBe(true);
    }
    for (const edge of graph.edges) {
      const spec = workflow.specs.get(edge.to);
      expect(spec && dependencyEdges(spec), `${edge.from} → ${edge.to}`).toContain(edge.from);
    }
  });
});

describe('Function: renderMermaid', () => {
  it('draws the workflow left to right with one node per task', () => {
    expect(renderMermaid(diamond)).toBe(
      ['flowchart LR', '  a["A"]', '  b["B"]', '  c["C"]', '  d["D"]', '  a --> b', '  a --> c', '  b --> d', '  c --> d', ''].join('\n'),
    );
  });

  it("colours each task by the type of one transient's status, and greys the blocked ones", () => {
    const text = renderMermaid(diamond, registers({ A: 'processed', B: 'failed', C: 'processing' }));

    expect(text).toContain('b["B<br/><i>failed</i>"]');
    expect(text).toContain('d["D<br/><i>not processed · blocked</i>"]');
    expect(text).toMatch(/class a success\n/);
    expect(text).toMatch(/class b error\n/);
    expect(text).toMatch(/class c warning\n/);
    expect(text).toMatch(/class d blocked\n/);
  });
});

describe('Function: renderDot', () => {
  it('writes a Graphviz digraph with the statuses as second label lines', () => {
    const text = renderDot(diamond, registers({ A: 'processed' }));

    expect(text.startsWith('digraph workflow {\n  rankdir=LR;')).toBe(true);
    expect(text).toContain('"A" [label="A\\nprocessed", fillcolor="#dafbe1"');
    expect(text).toContain('"B" -> "D";');
    expect(text.trimEnd().endsWith('}')).toBe(true);
  });
});

describe(`${WORKFLOW_DOC}: the workflow diagram`, () => {
  it('is the one the registry generates (npm run generate rewrites it)', () => {
    const page = readFileSync(WORKFLOW_DOC, 'utf8');
    const workflow = assertValidRegistry(loadCatalog('fixtures'), registry);

    expect(withCurrentDiagram(page, workflow)).toBe(page);
  });

  it('is replaced between its markers and nowhere else', () => {
    const stale = readFileSync(WORKFLOW_DOC, 'utf8').replace('host_match --> host_information', 'host_match --> host_mwebv');
    const workflow = assertValidRegistry(loadCatalog('fixtures'), registry);

    expect(withCurrentDiagram(stale, workflow)).toBe(readFileSync(WORKFLOW_DOC, 'utf8'));
    expect(withCurrentDiagram('# no diagram here\n', workflow)).toBeUndefined();
  });
});
