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
import type { ResetBody, TransientBody, TransientsBody } from '../../lib/web/schemas';
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
