/** The workflow (tasks, graph, statuses) changes only with a deployment: read once per page load. */
import type { WorkflowBody } from '../../lib/web/schemas';
import { api } from './api';

let workflow: Promise<WorkflowBody> | undefined;

export const loadWorkflow = (): Promise<WorkflowBody> => {
  workflow ??= api<WorkflowBody>('GET', '/workflow');
  // A failed read is tried again next time.
  workflow.catch(() => (workflow = undefined));
  return workflow;
};
