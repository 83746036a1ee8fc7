/** `graph`: the workflow diagram from the registry, and keeping the README's copy of it current. */
import { renderMermaid } from '../domain/graph';
import type { Workflow } from '../domain/workflow';

export const README = 'README.md';
const BEGIN = '<!-- workflow-graph: generated from the registry by `npm run generate`; a test checks it is current -->';
const END = '<!-- /workflow-graph -->';

/** The README block: the Mermaid diagram of the whole workflow, between its markers. */
export const readmeDiagram = (workflow: Workflow): string => `${BEGIN}\n\`\`\`mermaid\n${renderMermaid(workflow)}\`\`\`\n${END}`;

/** The README with its diagram block replaced by the current one; undefined when the README has no block. */
export const withCurrentDiagram = (readme: string, workflow: Workflow): string | undefined => {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END, start);
  if (start < 0 || end < 0) return undefined;
  return `${readme.slice(0, start)}${readmeDiagram(workflow)}${readme.slice(end + END.length)}`;
};
