import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { bucketOfRegisters } from '../../lib/domain/counts';
import type { Engine } from '../../lib/engine/engine';
import { ingestTransients } from '../../lib/engine/ingest';
import { StatusMessage, TaskName } from '../../lib/generated/fixtures';
import { createWebApi } from '../../lib/web/api';
import type { WebApiRequest } from '../../lib/web/contract';
import { OPENAPI_DOC, renderOpenApi } from '../../lib/web/openapi';
import { groupsOf, requestFromHttpApi } from '../../lib/web/http-api';
import type { ResetBody, RunDetailBody, RunnersBody, TransientBody, TransientsBody } from '../../lib/web/schemas';
import { currentTasksOf } from '../../lib/engine/attempts';
import { cloudWatchLocation } from '../../lib/engine/log-location';
import type { RunRecord } from '../../lib/engine/store';
import { Lane } from '../../lib/domain/lanes';
import { Status } from '../../lib/domain/catalog';
import { registry } from '../../runners/registry';
import { engineInMemory } from '../helpers/engine';
import { sampleTransient } from '../helpers/factories';

const operator = { operator: true, name: 'ops' };
const viewer = { operator: false };
const get = (path: string, query: Record<string, string> = {}): WebApiRequest => ({ method: 'GET', path, query, caller: viewer });

/** Three transients, the second with Host match failed (so what needs it is blocked). */
const prepare = async () => {
  const engine: Engine = engineInMemory(registry, 'fixtures');
  await ingestTransients(
    engine,
    ['2010H', '2010ag', '2010ai'].map((name, index) => sampleTransient(name, { publicTimestamp: `2010-0${index + 1}-16T00:00:00Z` })),
    { announce: false },
  );
  const record = await engine.store.transients.get('2010ag');
  if (!record) throw new Error('not ingested');
  const registers = { ...record.registers, [TaskName.HostMatch]: { status: StatusMessage.Failed, lastModified: 1, lastError: 'no host near' } };
  const written = await engine.store.transients.replace('2010ag', record, registers, bucketOfRegisters(engine.workflow, registers));
  expect(written.ok).toBe(true);
  return { engine, api: createWebApi({ engine }) };
};

describe('Web API: reads', () => {
  it('lists transients a page at a time, oldest first, with a cell per task coloured by status type', async () => {
    // Prepare
    const { api, engine } = await prepare();

    // Act
    const first = await api(get('/transients', { limit: '2' }));
    const firstBody = JSON.parse(first.body) as TransientsBody;
    const second = JSON.parse((await api(get('/transients', { limit: '2', after: firstBody.next ?? '' }))).body) as TransientsBody;

    // Assess
    expect(first.status).toBe(200);
    expect(firstBody.items.map((row) => row.name)).toEqual(['2010H', '2010ag']);
    expect(second.items.map((row) => row.name)).toEqual(['2010ai']);
    expect(second.next).toBeUndefined();
    const failed = firstBody.items[1]?.cells[engine.workflow.order.indexOf(TaskName.HostMatch)];
    expect(failed).toEqual({ status: StatusMessage.Failed, type: 'error' });
    expect(firstBody.items[1]?.cells[engine.workflow.order.indexOf(TaskName.HostInformation)]).toMatchObject({ blocked: true });
    expect(firstBody.items[0]?.cells).toHaveLength(engine.workflow.order.length);
  });

  it.each([
    [{ task: TaskName.HostMatch, taskType: 'error' }, ['2010ag']],
    [{ task: TaskName.HostMatch, taskStatus: StatusMessage.NotProcessed }, ['2010H', '2010ai']],
    [{ from: '2010-02-01T00:00:00Z' }, ['2010ag', '2010ai']],
    [{ to: '2010-02-01T00:00:00Z' }, ['2010H']],
  ])('filters transients by %o', async (query, names) => {
    const { api } = await prepare();
    const body = JSON.parse((await api(get('/transients', query))).body) as TransientsBody;
    expect(body.items.map((row) => row.name)).toEqual(names);
  });

  it('shows one transient with its registers and names the failed prerequisite that blocks a task', async () => {
    const { api } = await prepare();
    const response = await api(get(`/transients/${encodeURIComponent('2010ag')}`));
    const body = JSON.parse(response.body) as TransientBody;
    expect(response.status).toBe(200);
    expect(body.processingStatus).toBe('processing');
    expect(body.registers.find((register) => register.task === TaskName.HostInformation)?.blockedBy).toEqual([TaskName.HostMatch]);
    expect(body.registers.find((register) => register.task === TaskName.HostMatch)).toMatchObject({ lastError: 'no host near', type: 'error' });
  });

  it.each([
    ['an unknown transient', get('/transients/nope'), 404],
    ['an unknown route', get('/nothing'), 404],
    ['a limit out of range', get('/transients', { limit: '0' }), 400],
    ['an unknown filter', get('/transients', { colour: 'red' }), 400],
    ['a task status without its task', get('/transients', { taskStatus: 'failed' }), 400],
    ['a read of a control', get('/transients/2010H/retrigger'), 405],
    ['an unknown runner', get('/dead-letters', { task: 'Nope' }), 404],
  ])('refuses %s', async (_, request, status) => {
    const { api } = await prepare();
    expect((await api(request)).status).toBe(status);
  });

  it('counts the transients and lists the runners and their dead letters', async () => {
    const { api } = await prepare();
    expect(JSON.parse((await api(get('/counts'))).body)).toMatchObject({ total: 3 });
    const runners = JSON.parse((await api(get('/runners'))).body) as { runners: { task: string; kind: string; deadLetters?: number }[] };
    expect(runners.runners.find((runner) => runner.task === TaskName.HostMatch)).toMatchObject({ kind: 'transient', deadLetters: 0 });
    expect(runners.runners.some((runner) => runner.kind === 'system')).toBe(true);
    expect(JSON.parse((await api(get('/dead-letters'))).body)).toEqual({ deadLetters: [] });
  });
});

/** A run of Host match on 2010H as the worker records it (lib/engine/worker.ts), from its claim at `startedAt`. */
const hostMatchRun = (run: string, startedAt: number, ended: Partial<RunRecord>): RunRecord => ({
  name: '2010H',
  task: TaskName.HostMatch,
  run,
  attempt: 1,
  startedAt,
  status: Status.Processing,
  version: '7',
  fingerprint: 'a1b2c3d4e5f6',
  inputs: { fields: { raDeg: 1, decDeg: 2 }, upstream: {} },
  invocation: { requestId: `request-${run}`, logGroup: '/aws/lambda/blast-HostMatch', logStream: '2026/12/03/[$LATEST]0f1e2d' },
  expiresAt: 2_000_000_000,
  ...ended,
});

/** 2010H's Host match retried: its first attempt threw, its second (the one its register holds) succeeded. */
const prepareRetried = async () => {
  const prepared = await prepare();
  const { engine } = prepared;
  const first = hostMatchRun('m1.aaaa', 1_000, { endedAt: 1_400, durationMs: 400, status: Status.NotProcessed, error: 'TimeoutError: the catalogue did not answer' });
  const second = hostMatchRun('m1.bbbb', 3_000, { attempt: 2, endedAt: 3_250, durationMs: 250, status: Status.Processed });
  await engine.store.history.record(first);
  await engine.store.history.record(second);
  await engine.store.outputs.save('2010H', TaskName.HostMatch, first.run, { data: { separationArcsec: 1.5 } }, 1_400);
  const record = await engine.store.transients.get('2010H');
  if (!record) throw new Error('not ingested');
  const registers = { ...record.registers, [TaskName.HostMatch]: { status: Status.Processed, lastModified: 3_250, attempt: 2, claim: second.run, version: '7' } };
  expect((await engine.store.transients.replace('2010H', record, registers, bucketOfRegisters(engine.workflow, registers))).ok).toBe(true);
  return { ...prepared, first, second, api: createWebApi({ engine, logs: cloudWatchLocation('eu-west-1') }) };
};

describe('Web API: attempts and staleness', () => {
  it("shows a retried task's attempts, newest first, the first with its error and a link to its logs", async () => {
    // Prepare
    const { api, first, second } = await prepareRetried();

    // Act
    const body = JSON.parse((await api(get('/transients/2010H'))).body) as TransientBody;

    // Assess
    const attempts = body.runs.filter((run) => run.task === TaskName.HostMatch);
    expect(attempts.map((run) => [run.run, run.attempt, run.status, run.current])).toEqual([
      [second.run, 2, Status.Processed, true],
      [first.run, 1, Status.NotProcessed, false],
    ]);
    expect(attempts[1]).toMatchObject({ startedAt: 1_000, endedAt: 1_400, durationMs: 400, error: 'TimeoutError: the catalogue did not answer', version: '7', type: 'blank' });
    expect(attempts[1]?.log).toEqual({
      text: `/aws/lambda/blast-HostMatch 2026/12/03/[$LATEST]0f1e2d (request request-${first.run})`,
      href:
        'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Fblast-HostMatch' +
        `/log-events/2026$252F12$252F03$252F$255B$2524LATEST$255D0f1e2d$3FfilterPattern$3D$2522request-${first.run}$2522`,
    });
    expect(body.runs.every((run) => run.task === TaskName.HostMatch)).toBe(true);
  });

  it('reads back a superseded run with its inputs and the output it saved, as `history NAME TASK --run ID`', async () => {
    // Prepare
    const { api, first } = await prepareRetried();
    const path = (task: string, run: string) => `/transients/2010H/runs/${encodeURIComponent(task)}/${encodeURIComponent(run)}`;

    // Act
    const found = await api(get(path(TaskName.HostMatch, first.run)));
    const missing = await Promise.all([get(path(TaskName.HostMatch, 'nope.0000')), get(path('Nope', first.run)), get(`/transients/2010ag/runs/${encodeURIComponent(TaskName.HostMatch)}/${first.run}`)].map(api));

    // Assess
    expect(found.status).toBe(200);
    expect(JSON.parse(found.body) as RunDetailBody).toMatchObject({ run: first.run, current: false, inputs: first.inputs, output: { data: { separationArcsec: 1.5 } } });
    expect(missing.map((response) => response.status)).toEqual([404, 404, 404]);
  });

  it("filters the grid on a task's stale results, with why, and says on the transient's page which results are stale", async () => {
    // Prepare: 2010H's Host match was made with an older version; 2010ai's with the current one.
    const { engine } = await prepare();
    const api = createWebApi({ engine });
    const now = currentTasksOf(engine).get(TaskName.HostMatch)?.version ?? '';
    for (const [name, version] of [['2010H', 'old0'], ['2010ai', now]] as const) {
      const record = await engine.store.transients.get(name);
      if (!record) throw new Error('not ingested');
      const registers = { ...record.registers, [TaskName.HostMatch]: { status: Status.Processed, lastModified: 1, claim: `${name}.run`, version } };
      expect((await engine.store.transients.replace(name, record, registers, bucketOfRegisters(engine.workflow, registers))).ok).toBe(true);
    }

    // Act
    const stale = JSON.parse((await api(get('/transients', { stale: TaskName.HostMatch }))).body) as TransientsBody;
    const none = JSON.parse((await api(get('/transients', { stale: TaskName.CutoutDownload }))).body) as TransientsBody;
    const page = JSON.parse((await api(get('/transients/2010H'))).body) as TransientBody;
    const unknown = await api(get('/transients', { stale: 'Nope' }));

    // Assess
    expect(stale.items.map((row) => [row.name, row.staleReasons])).toEqual([['2010H', [`version changed from old0 to ${now}`]]]);
    expect(none.items).toEqual([]);
    expect(page.registers.filter((register) => register.staleReasons).map((register) => [register.task, register.staleReasons])).toEqual([
      [TaskName.HostMatch, [`version changed from old0 to ${now}`]],
    ]);
    expect(page.registers.find((register) => register.task === TaskName.HostMatch)).toMatchObject({ version: 'old0', currentVersion: now });
    expect(unknown.status).toBe(404);
  });

  it("counts the backfill lane's ready markers on the runners and marks a register a backfill reset", async () => {
    // Prepare: Host match of 2010ai reset by a backfill, its readiness in the backfill lane.
    const { engine, api } = await prepare();
    const record = await engine.store.transients.get('2010ai');
    if (!record) throw new Error('not ingested');
    const registers = { ...record.registers, [TaskName.HostMatch]: { status: Status.NotProcessed, lastModified: 1, lane: Lane.Backfill } };
    expect((await engine.store.transients.replace('2010ai', record, registers, bucketOfRegisters(engine.workflow, registers))).ok).toBe(true);
    await engine.store.readiness.put([{ task: TaskName.HostMatch, shard: 0, priority: '2010-03-16T00:00:00.000Z#2010ai', name: '2010ai', readyAt: 5, generation: 1, id: 'r1', lane: Lane.Backfill }]);

    // Act
    const runners = JSON.parse((await api(get('/runners'))).body) as RunnersBody;
    const page = JSON.parse((await api(get('/transients/2010ai'))).body) as TransientBody;

    // Assess
    expect(runners.runners.find((runner) => runner.task === TaskName.HostMatch)?.ready).toMatchObject({ backfill: 1 });
    expect(page.registers.find((register) => register.task === TaskName.HostMatch)?.lane).toBe(Lane.Backfill);
  });
});

describe('Web API: controls', () => {
  it('lets only an operator retrigger, and the retrigger resets the failed register', async () => {
    // Prepare
    const { api, engine } = await prepare();
    const retrigger = { method: 'POST', path: '/transients/2010ag/retrigger', query: {} };

    // Act
    const refused = await api({ ...retrigger, caller: viewer });
    const done = await api({ ...retrigger, caller: operator });

    // Assess
    expect(refused.status).toBe(403);
    expect(done.status).toBe(200);
    expect((JSON.parse(done.body) as ResetBody).reset).toEqual([{ task: TaskName.HostMatch, from: StatusMessage.Failed }]);
    expect((await engine.store.transients.get('2010ag'))?.registers[TaskName.HostMatch]?.status).toBe(StatusMessage.NotProcessed);
  });

  it('validates a redrive body', async () => {
    const { api } = await prepare();
    const path = `/dead-letters/${encodeURIComponent(TaskName.HostMatch)}/redrive`;
    expect((await api({ method: 'POST', path, query: {}, body: '{"names": 3}', caller: operator })).status).toBe(400);
    expect((await api({ method: 'POST', path, query: {}, body: 'not json', caller: operator })).status).toBe(400);
    const none = await api({ method: 'POST', path, query: {}, body: '{}', caller: operator });
    expect(JSON.parse(none.body)).toEqual({ redriven: [], skipped: [], unsent: [] });
  });
});

describe('Web API: OpenAPI', () => {
  it(`${OPENAPI_DOC} is what the routes' schemas generate (npm run generate)`, () => {
    expect(readFileSync(OPENAPI_DOC, 'utf8')).toBe(renderOpenApi());
  });
});

describe('Web API: HTTP API events', () => {
  it.each([
    ['[operators readers]', ['operators', 'readers']],
    ['operators', ['operators']],
    [['readers', 'operators'], ['readers', 'operators']],
    [undefined, []],
  ])('reads the groups of the claim %o', (claim, groups) => {
    expect(groupsOf(claim)).toEqual(groups);
  });

  it('adapts an event: its path below the stage, its query, its body, and an operator from the groups claim', () => {
    const event = {
      rawPath: '/prod/transients/2010ag/retrigger',
      queryStringParameters: { limit: '5' },
      body: Buffer.from('{}').toString('base64'),
      isBase64Encoded: true,
      requestContext: { stage: 'prod', http: { method: 'POST' }, authorizer: { jwt: { claims: { 'cognito:groups': '[operators]', 'cognito:username': 'ada' }, scopes: [] } } },
    } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
    expect(requestFromHttpApi(event)).toEqual({
      method: 'POST',
      path: '/transients/2010ag/retrigger',
      query: { limit: '5' },
      body: '{}',
      caller: { operator: true, name: 'ada' },
    });
  });
});
