/** `graph`: the workflow diagram from the registry, and keeping the docs' copy of it current. */
import { renderMermaid } from '../domain/graph';
import type { Workflow } from '../domain/workflow';

/** The docs page that shows the whole workflow's diagram; `npm run generate` rewrites it, `npm run validate` checks it. */
export const WORKFLOW_DOC = 'docs/workflow.md';
const BEGIN = '<!-- workflow-graph: generated from the registry by `npm run generate`; a test checks it is current -->';
const END = '<!-- /workflow-graph -->';

/** The docs' block: the Mermaid diagram of the whole workflow, between its markers. */
export const workflowDiagramBlock = (workflow: Workflow): string => `${BEGIN}\n\`\`\`mermaid\n${renderMermaid(workflow)}\`\`\`\n${END}`;

/** The page with its diagram block replaced by the current one; undefined when the page has no block. */
export const withCurrentDiagram = (page: string, workflow: Workflow): string | undefined => {
  const start = page.indexOf(BEGIN);
  const end = page.indexOf(END, start);
  if (start < 0 || end < 0) return undefined;
  return `${page.slice(0, start)}${workflowDiagramBlock(workflow)}${page.slice(end + END.length)}`;
};
