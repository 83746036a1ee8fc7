/**
 * The web view's read API and controls over an engine: the same engine code the CLI uses (the processing-status
 * index, the counters, the dead-letter records, the ready index; no scan), and the controls call the CLI's
 * operations (lib/engine/operations.ts). Every request is validated with the routes' zod schemas (routes.ts);
 * the controls answer 403 to a caller who is not an operator. The local server and the Lambda entry
 * (functions/web-api.ts) both hand requests over as a WebApiRequest.
 */
import { z } from 'zod';
import { StatusType, statusTypeOf } from '../domain/catalog';
import { coerceError } from '../domain/errors';
import { workflowGraph } from '../domain/graph';
import { priorityKey } from '../domain/ordering';
import { toCounts } from '../domain/counts';
import { Lane } from '../domain/lanes';
import { type Registers, type Workflow, blockedTasks, isReady, statusOf, summarise } from '../domain/workflow';
import { type Engine, transientRunner } from '../engine/engine';
import { currentTasksOf } from '../engine/attempts';
import { historyOf, staleOf } from '../engine/history';
import { type LogLocator, logGroupLocation } from '../engine/log-location';
import { deadLettersOf, listTransients, redriveDeadLetters, registersOf, reprocess, retrigger } from '../engine/operations';
import type { QueueDepths } from '../engine/queue-depths';
import type { RunOutput, RunRecord, TransientRecord } from '../engine/store';
import { isTransientRunner } from '../runner';
import type { WebApi, WebApiRequest, WebApiResponse } from './contract';
import { type RouteId, matchPath, routes } from './routes';
import type { Cell, DeadLetterBody, RegisterBody, ResetBody, RunBody, RunnerBody, TransientRow } from './schemas';

export interface WebApiOptions {
  readonly engine: Engine;
  /** The runners' queue depths (SQS); without it the runners are listed without them. */
  readonly queueDepths?: QueueDepths;
  /** Where an attempt's logs are (lib/engine/log-location.ts); by default its log group and stream, as text. */
  readonly logs?: LogLocator;
}

/** Transients a filtered page reads at most, so a filter that matches little still answers quickly. */
const MAX_SCANNED_PER_PAGE = 1000;
/** Ready markers read per shard for the runners' backlog. */
const READY_PAGE = 100;

type Route = (typeof routes)[RouteId];
type Input<K extends RouteId> = {
  readonly query: z.output<(typeof routes)[K]['query']>;
  readonly body: (typeof routes)[K] extends { body: z.ZodType } ? z.output<(typeof routes)[K]['body']> : undefined;
  readonly params: Readonly<Record<string, string>>;
};
/** A route's work: its answer, or undefined for a resource that does not exist (404). */
type Handlers = { [K in RouteId]: (input: Input<K>) => Promise<z.input<(typeof routes)[K]['response']> | undefined> };

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } as const;

const respond = (status: number, body: unknown): WebApiResponse => ({ status, headers: JSON_HEADERS, body: JSON.stringify(body) });
const refuse = (status: number, error: string, issues?: z.core.$ZodIssue[]): WebApiResponse =>
  respond(status, { error, ...(issues ? { issues: issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })) } : {}) });

const cellsOf = (workflow: Workflow, registers: Registers): Cell[] => {
  const blocked = blockedTasks(workflow, registers);
  return workflow.order.map((task) => {
    const status = statusOf(registers, task);
    return { status, type: statusTypeOf(workflow.catalog, status) ?? StatusType.Blank, ...(blocked.has(task) ? { blocked: true } : {}) };
  });
};

const rowOf = (workflow: Workflow, record: TransientRecord, staleReasons?: readonly string[]): TransientRow => {
  const { progress, processingStatus } = summarise(workflow, record.registers);
  return {
    name: record.transient.name,
    publicTimestamp: record.transient.publicTimestamp,
    processingStatus,
    progress,
    cells: cellsOf(workflow, record.registers),
    ...(staleReasons ? { staleReasons: [...staleReasons] } : {}),
  };
};

const outputBody = (output: RunOutput | undefined): RegisterBody['output'] =>
  output && {
    ...(output.data ? { data: output.data } : {}),
    ...(output.spilled ? { spilled: output.spilled } : {}),
    ...(output.artifacts ? { artifacts: Object.values(output.artifacts) } : {}),
  };

/** The page's first key at or after an ISO time (priority keys are `<ISO time>#<name>`). */
const keyAt = (iso: string) => new Date(iso).toISOString();

export const createWebApi = ({ engine, queueDepths, logs = logGroupLocation }: WebApiOptions): WebApi => {
  const { workflow } = engine;
  const typeOf = (status: string) => statusTypeOf(workflow.catalog, status) ?? StatusType.Blank;
  const order = new Map(workflow.order.map((task, index) => [task, index]));
  /** An attempt as the page shows it; `current` when the register holds its result. */
  const runBody = (run: RunRecord, record: TransientRecord): RunBody => ({
    task: run.task,
    run: run.run,
    attempt: run.attempt,
    startedAt: run.startedAt,
    ...(run.endedAt === undefined ? {} : { endedAt: run.endedAt }),
    ...(run.durationMs === undefined ? {} : { durationMs: run.durationMs }),
    status: run.status,
    type: typeOf(run.status),
    ...(run.error === undefined ? {} : { error: run.error }),
    ...(run.recorded === undefined ? {} : { recorded: run.recorded }),
    current: record.registers[run.task]?.claim === run.run,
    version: run.version,
    fingerprint: run.fingerprint,
    ...(run.invocation ? { log: { ...logs(run.invocation) } } : {}),
    ...(run.artifacts?.length ? { artifacts: [...run.artifacts] } : {}),
  });

  const handlers: Handlers = {
    workflow: async () => ({
      tasks: workflow.order.map((task) => {
        const runner = engine.runners.get(task);
        return {
          name: task,
          prerequisites: { ...(workflow.specs.get(task)?.prerequisites ?? {}) },
          runner: runner === undefined ? 'none' : isTransientRunner(runner) ? 'transient' : 'system',
        };
      }),
      edges: [...workflowGraph(workflow).edges],
      statuses: [...workflow.catalog.statuses.values()].map(({ message, type }) => ({ message, type })),
    }),

    transients: async ({ query }) => {
      if (query.stale !== undefined && !workflow.specs.has(query.stale)) return undefined;
      const from = query.from === undefined ? undefined : keyAt(query.from);
      const to = query.to === undefined ? undefined : keyAt(query.to);
      const matches = (record: TransientRecord) => {
        if (query.task === undefined) return true;
        const status = statusOf(record.registers, query.task);
        return (query.taskStatus === undefined || status === query.taskStatus) && (query.taskType === undefined || typeOf(status) === query.taskType);
      };
      /** Whether the row is kept, and with the stale filter, why its task is stale (as `list --stale`: from the registers). */
      const keep = (record: TransientRecord): { staleReasons?: string[] } | undefined => {
        if (!matches(record)) return undefined;
        if (query.stale === undefined) return {};
        const reasons = staleOf(engine, record).get(query.stale);
        return reasons ? { staleReasons: reasons.map((reason) => reason.message) } : undefined;
      };
      const items: TransientRow[] = [];
      let after = query.after !== undefined && (from === undefined || query.after > from) ? query.after : from;
      let scanned = 0;
      for (;;) {
        const page = await listTransients(engine, { statuses: query.status ? [query.status] : [], limit: query.limit, ...(after ? { after } : {}) });
        for (const record of page.records) {
          const key = priorityKey(record.transient);
          if (to !== undefined && key >= to) return { items, scanned };
          scanned++;
          after = key;
          const kept = keep(record);
          if (!kept) continue;
          items.push(rowOf(workflow, record, kept.staleReasons));
          if (items.length === query.limit) return { items, scanned, ...(page.next || record !== page.records.at(-1) ? { next: key } : {}) };
        }
        if (!page.next) return { items, scanned };
        if (scanned >= MAX_SCANNED_PER_PAGE) return { items, scanned, next: page.next };
      }
    },

    transient: async ({ params }) => {
      const name = params.name ?? '';
      const [record, runs] = await Promise.all([engine.store.transients.get(name), historyOf(engine, name)]);
      if (!record) return undefined;
      const { progress, processingStatus, blocked } = summarise(workflow, record.registers);
      // As `status NAME`: the inputs the runs the registers hold recorded are checked too.
      const stale = staleOf(engine, record, runs);
      const current = currentTasksOf(engine);
      const outputs = await Promise.all(
        workflow.order.map(async (task) => {
          const claim = record.registers[task]?.claim;
          return claim === undefined ? undefined : engine.store.outputs.read(name, task, claim);
        }),
      );
      const registers: RegisterBody[] = workflow.order.map((task, index) => {
        const register = record.registers[task];
        const status = statusOf(record.registers, task);
        const spec = workflow.specs.get(task);
        const output = outputBody(outputs[index]);
        return {
          task,
          status,
          type: typeOf(status),
          ...(register?.lastModified === undefined ? {} : { lastModified: register.lastModified }),
          ...(register?.processingSeconds === undefined ? {} : { processingSeconds: register.processingSeconds }),
          ...(register?.attempt === undefined ? {} : { attempt: register.attempt }),
          ...(register?.lastError === undefined ? {} : { lastError: register.lastError }),
          ...(register?.deadLettered ? { deadLettered: true } : {}),
          ...(register?.leaseUntil === undefined ? {} : { leaseUntil: register.leaseUntil }),
          ready: typeOf(status) === StatusType.Blank && spec !== undefined && isReady(spec, record.registers),
          ...(blocked.has(task) ? { blockedBy: blocked.get(task) } : {}),
          ...(register?.version === undefined ? {} : { version: register.version }),
          ...(current.get(task) === undefined ? {} : { currentVersion: current.get(task)?.version }),
          ...(stale.has(task) ? { staleReasons: (stale.get(task) ?? []).map((reason) => reason.message) } : {}),
          ...(register?.lane ? { lane: register.lane } : {}),
          ...(output ? { output } : {}),
        };
      });
      const attempts = [...runs]
        .sort((a, b) => (order.get(a.task) ?? 0) - (order.get(b.task) ?? 0) || b.startedAt - a.startedAt)
        .map((run) => runBody(run, record));
      return { transient: { ...record.transient }, processingStatus, progress, createdAt: record.createdAt, registers, runs: attempts };
    },

    run: async ({ params }) => {
      const name = params.name ?? '';
      const task = params.task ?? '';
      if (!workflow.specs.has(task)) return undefined;
      const [record, runs] = await Promise.all([engine.store.transients.get(name), historyOf(engine, name, task)]);
      const run = runs.find((each) => each.run === params.run);
      if (!record || !run) return undefined;
      const output = outputBody(await engine.store.outputs.read(name, task, run.run));
      return { ...runBody(run, record), inputs: run.inputs, ...(output ? { output } : {}) };
    },

    runners: async () => {
      const runners = await Promise.all(
        [...engine.runners.values()].map(async (runner): Promise<RunnerBody> => {
          const common = { task: runner.taskName, frequencySeconds: runner.frequencySeconds, initiallyEnabled: runner.initiallyEnabled };
          if (!isTransientRunner(runner)) return { ...common, kind: 'system' };
          const task = runner.taskName;
          const [depths, deadLetters, ready] = await Promise.all([
            queueDepths?.of(task),
            deadLettersOf(engine, task),
            Promise.all(Array.from({ length: runner.readyShards }, (_, shard) => engine.store.readiness.page(task, shard, READY_PAGE))),
          ]);
          const markers = ready.flatMap((page) => page.items);
          const oldest = markers.length > 0 ? Math.min(...markers.map((marker) => marker.readyAt)) : undefined;
          const backfill = markers.filter((marker) => marker.lane === Lane.Backfill).length;
          return {
            ...common,
            kind: 'transient',
            ...(depths?.queue ? { queue: depths.queue } : {}),
            ...(depths?.deadLetterQueue ? { deadLetterQueue: depths.deadLetterQueue } : {}),
            deadLetters: deadLetters.length,
            ready: {
              waiting: markers.length,
              more: ready.some((page) => page.next !== undefined),
              ...(backfill > 0 ? { backfill } : {}),
              ...(oldest === undefined ? {} : { oldestReadyAt: oldest }),
            },
          };
        }),
      );
      // Workflow order first (transient runners), then the system runners.
      const rank = (task: string) => {
        const index = workflow.order.indexOf(task);
        return index < 0 ? workflow.order.length : index;
      };
      return { runners: runners.sort((a, b) => rank(a.task) - rank(b.task)) };
    },

    deadLetters: async ({ query }) => {
      const tasks = query.task !== undefined ? [query.task] : [...engine.runners.values()].filter(isTransientRunner).map((runner) => runner.taskName);
      if (query.task !== undefined && !transientRunner(engine, query.task)) return undefined;
      const records = (await Promise.all(tasks.map((task) => deadLettersOf(engine, task)))).flat().sort((a, b) => a.at - b.at);
      const registers = await registersOf(engine, [...new Set(records.map((record) => record.name))]);
      const deadLetters: DeadLetterBody[] = records.map((record) => {
        const current = registers.get(record.name);
        const statusNow = current ? statusOf(current, record.task) : undefined;
        return { ...record, ...(statusNow === undefined ? {} : { statusNow, typeNow: typeOf(statusNow) }) };
      });
      return { deadLetters };
    },

    counts: async () => toCounts(await engine.store.counters.read()),

    retrigger: async ({ params }) => resetBody(await retrigger(engine, params.name ?? '')),
    reprocess: async ({ params }) => resetBody(await reprocess(engine, params.name ?? '')),

    redrive: async ({ params, body }) => {
      const task = params.task ?? '';
      if (!transientRunner(engine, task)) return undefined;
      const result = await redriveDeadLetters(engine, task, body.names);
      return { redriven: result.redriven, skipped: result.skipped, unsent: result.unsent.map((failed) => failed.name) };
    },
  };

  const run = async (id: RouteId, route: Route, request: WebApiRequest, params: Record<string, string>): Promise<WebApiResponse> => {
    if ('operator' in route && route.operator && !request.caller.operator) return refuse(403, 'only an operator may do this');
    const query = route.query.safeParse(request.query);
    if (!query.success) return refuse(400, 'invalid query', query.error.issues);
    let body: unknown;
    if ('body' in route) {
      let json: unknown = {};
      if (request.body !== undefined && request.body.trim() !== '') {
        try {
          json = JSON.parse(request.body);
        } catch {
          return refuse(400, 'the body is not JSON');
        }
      }
      const parsed = route.body.safeParse(json);
      if (!parsed.success) return refuse(400, 'invalid body', parsed.error.issues);
      body = parsed.data;
    }
    const handler = handlers[id] as (input: { query: unknown; body: unknown; params: Record<string, string> }) => Promise<unknown>;
    const result = await handler({ query: query.data, body, params });
    if (result === undefined) return refuse(404, `not found: ${request.path}`);
    return respond(200, result);
  };

  return async (request) => {
    const method = request.method.toUpperCase();
    let allowed = false;
    for (const [id, route] of Object.entries(routes) as [RouteId, Route][]) {
      const params = matchPath(route.path, request.path);
      if (!params) continue;
      if (route.method !== method) {
        allowed = true;
        continue;
      }
      try {
        return await run(id, route, request, params);
      } catch (error) {
        engine.logger.error('web API request failed', { method, path: request.path, error: coerceError(error) });
        return refuse(500, 'internal error');
      }
    }
    return allowed ? refuse(405, `method ${method} not allowed on ${request.path}`) : refuse(404, `no such route: ${request.path}`);
  };
};

const resetBody = (result: Awaited<ReturnType<typeof retrigger>>): ResetBody | undefined =>
  result && {
    name: result.name,
    before: result.before,
    after: result.after,
    reset: [...result.reset],
    sent: [...result.sent],
    unsent: result.unsent.map((failed) => failed.task),
    waiting: [...result.waiting],
    inFlight: [...result.inFlight],
  };
