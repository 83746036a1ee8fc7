/**
 * The web view's API routes, declared once: the API (api.ts) dispatches on them and validates with their
 * schemas, and the OpenAPI document (openapi.ts) is generated from them.
 */
import type { z } from 'zod';
import {
  CountsBody,
  DeadLettersBody,
  DeadLettersQuery,
  EmptyQuery,
  RedriveBody,
  RedriveResultBody,
  ResetBody,
  RunDetailBody,
  RunnersBody,
  TransientBody,
  TransientsBody,
  TransientsQuery,
  WorkflowBody,
} from './schemas';

export interface RouteSpec {
  readonly method: 'GET' | 'POST';
  /** OpenAPI's path template: `{name}` is one URI-encoded path segment. */
  readonly path: string;
  readonly summary: string;
  readonly query: z.ZodType;
  readonly body?: z.ZodType;
  readonly response: z.ZodType;
  /** A control: only an operator may call it. */
  readonly operator?: true;
}

export const routes = {
  workflow: { method: 'GET', path: '/workflow', summary: 'The tasks, their prerequisites, the workflow graph and the statuses, from the registry and fixtures', query: EmptyQuery, response: WorkflowBody },
  transients: {
    method: 'GET',
    path: '/transients',
    summary: 'One page of transients, oldest public timestamp first, each with its task statuses (the grid), from the processing-status index',
    query: TransientsQuery,
    response: TransientsBody,
  },
  transient: {
    method: 'GET',
    path: '/transients/{name}',
    summary: 'One transient with its registers, what blocks them, which are stale and why, the outputs and artifacts of their runs, and every attempt in its run history',
    query: EmptyQuery,
    response: TransientBody,
  },
  run: {
    method: 'GET',
    path: '/transients/{name}/runs/{task}/{run}',
    summary: "One attempt from the run history with its inputs and the output it saved, even when a later run superseded it (the CLI's `history NAME TASK --run ID`)",
    query: EmptyQuery,
    response: RunDetailBody,
  },
  runners: { method: 'GET', path: '/runners', summary: "The runners with their queues' depths, dead letters and ready backlog", query: EmptyQuery, response: RunnersBody },
  deadLetters: { method: 'GET', path: '/dead-letters', summary: 'Dead-letter records with the status each left behind', query: DeadLettersQuery, response: DeadLettersBody },
  counts: { method: 'GET', path: '/counts', summary: 'Transients by state, from the counters (no scan)', query: EmptyQuery, response: CountsBody },
  retrigger: {
    method: 'POST',
    path: '/transients/{name}/retrigger',
    summary: "Blast's retrigger: retry failed tasks and runs that died (the CLI's `retrigger`)",
    query: EmptyQuery,
    response: ResetBody,
    operator: true,
  },
  reprocess: {
    method: 'POST',
    path: '/transients/{name}/reprocess',
    summary: "Blast's reprocess: every task back to \"not processed\" (the CLI's `reprocess`)",
    query: EmptyQuery,
    response: ResetBody,
    operator: true,
  },
  redrive: {
    method: 'POST',
    path: '/dead-letters/{task}/redrive',
    summary: "Send a runner's dead letters back to its queue (the CLI's `dlq redrive`)",
    query: EmptyQuery,
    body: RedriveBody,
    response: RedriveResultBody,
    operator: true,
  },
} as const satisfies Record<string, RouteSpec>;

export type RouteId = keyof typeof routes;

/** The names of a path template's parameters, in order. */
export const pathParameters = (path: string): string[] => [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '');

/** Matches a request path against a template; returns its decoded parameters, or undefined. */
export const matchPath = (template: string, path: string): Record<string, string> | undefined => {
  const want = template.split('/');
  const got = path.replace(/\/+$/, '').split('/');
  if (want.length !== got.length) return undefined;
  const parameters: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i] ?? '';
    const actual = got[i] ?? '';
    const parameter = /^\{(\w+)\}$/.exec(segment)?.[1];
    if (parameter === undefined) {
      if (segment !== actual) return undefined;
      continue;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(actual);
    } catch {
      return undefined;
    }
    if (decoded.length === 0) return undefined;
    parameters[parameter] = decoded;
  }
  return parameters;
};
