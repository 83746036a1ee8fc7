/**
 * `backfill` as an operator runs it, against the local runtime (`start --keep-running`, schedules fast enough that
 * the dispatcher sends the backfill lane's work): the process driving a backfill is killed with SIGKILL mid-way,
 * which no handler sees; `backfill resume` then finishes it, and every selected transient's tasks were reset
 * exactly once (one generation on), nothing else was touched, and every one of them finished.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../runners/registry';
import { documentClient } from '../../lib/bootstrap/create-engine';
import { assertValidRegistry } from '../../lib/domain/validation';
import { downstreamTasks, generationOf, statusOf } from '../../lib/domain/workflow';
import { loadCatalog } from '../../lib/fixtures/load-catalog';
import { localClientConfig } from '../../lib/local/services';
import type { TaskStore } from '../../lib/engine/store';
import { dynamoTaskStore } from '../../lib/store/dynamodb';
import { type Run, cli as cliProcess, endpointsOf, finish, interrupt, lines } from '../helpers/cli-process';
import { waitFor } from '../helpers/local-stack';

const dir = mkdtempSync(join(tmpdir(), 'cli-backfill-'));
const stateFile = join(dir, 'endpoints.json');
const workflow = assertValidRegistry(loadCatalog('fixtures'), registry);
const TASK = 'Validate local photometry';
const tasks = downstreamTasks(workflow, TASK);
const selected = Array.from({ length: 6 }, (_, i) => `bf-${i + 1}`);
/** Published before the range the backfill selects. */
const outside = 'bf-outside';

/** The CLI on this file's runtime. */
const node = (args: readonly string[]) => cliProcess(['--state-file', stateFile, ...args]);
const cli = (args: readonly string[]) => finish(node(args));

/** A transient at 2010H's position (a catalogued host, so the example workflow completes). */
const like2010H = (name: string, day: number) => ({ name, ra: 121.6015, dec: 1.03586, public_timestamp: new Date(Date.UTC(2021, 0, day)).toISOString() });

describe('CLI: backfill', () => {
  let start: Run;
  let store: TaskStore;

  beforeAll(async () => {
    const file = join(dir, 'transients.json');
    writeFileSync(file, JSON.stringify([like2010H(outside, 1), ...selected.map((name, i) => like2010H(name, 10 + i))]));
    // A 60 s period lasts half a second here: the dispatcher sends the backfill lane's work twice a second.
    start = node(['start', '--keep-running', '--tick', '500', '--transients', file]);
    const endpoints = await endpointsOf<{ dynamodbEndpoint: string; tableName: string }>(start, stateFile);
    store = dynamoTaskStore(documentClient(new DynamoDBClient(localClientConfig(endpoints.dynamodbEndpoint))), endpoints.tableName);
  }, 240_000);

  afterAll(async () => {
    if (start) await interrupt(start);
  }, 60_000);

  it('survives a SIGKILL of the process driving it: resumed, it finishes, and nothing was reset twice or left out', async () => {
    // Prepare: every transient's generations before
    const generations = async () =>
      new Map((await store.transients.getMany([outside, ...selected])).map((record) => [record.transient.name, Object.fromEntries(workflow.order.map((task) => [task, generationOf(record.registers, task)]))]));
    const before = await generations();
    expect(before.size).toBe(selected.length + 1);

    // Act: a backfill of one transient at a time over the range; killed once the first has finished
    const driving = node(['backfill', TASK, '--from', '2021-01-05', '--to', '2021-02-01', '--share', '0.1']);
    await waitFor('the first transient of the backfill to finish', async () => / [1-9]\d* done/.test(driving.stderr()) || driving.child.exitCode !== null, 120_000);
    driving.child.kill('SIGKILL');
    const atKill = await finish(driving);
    const output = atKill.stdout;
    const progress = atKill.stderr;
    const id = /backfill (bf-\S+) recorded/.exec(output)?.[1];
    expect(id, `${output}\n${progress}`).toBeDefined();
    expect(atKill.code, 'the backfill ended before it was killed').toBeNull();
    const resumed = await cli(['backfill', 'resume', id as string]);
    const status = await cli(['backfill', 'status', id as string]);

    // Assess: resumed to its end; each selected transient's backfilled tasks one generation on, nothing else moved
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(status.stdout).toContain(`finished`);
    expect(status.stdout).toContain(`${selected.length} of ${selected.length} selected transients reset, ${selected.length} done, 0 failed`);
    const after = await generations();
    for (const name of [outside, ...selected]) {
      const expected = Object.fromEntries(workflow.order.map((task) => [task, (before.get(name)?.[task] ?? 0) + (name !== outside && tasks.includes(task) ? 1 : 0)]));
      expect(after.get(name), name).toEqual(expected);
    }
    for (const record of await store.transients.getMany(selected)) for (const task of tasks) expect(statusOf(record.registers, task), `${record.transient.name} ${task}`).toBe('processed');
  }, 240_000);

  it('cancel stops a backfill: nothing more is reset, and its status says so; list shows every backfill', async () => {
    const created = await cli(['backfill', TASK, '--names', 'bf-1', 'bf-2', '--no-wait']);
    const id = /backfill (bf-\S+) recorded/.exec(created.stdout)?.[1] as string;
    const cancelled = await cli(['backfill', 'cancel', id]);
    const resumed = await cli(['backfill', 'resume', id]);
    const listed = await cli(['backfill', 'list']);

    expect(created.code, created.stderr).toBe(0);
    expect(cancelled.stdout).toContain('cancelled');
    expect(resumed.stdout).toContain('0 of 0 selected transients reset');
    expect(listed.stdout).toContain(`${id} cancelled`);
    expect(lines(listed.stdout)).toHaveLength(2);
  }, 60_000);

  it('selects by a task status: none failed here, so it finishes at once with nothing reset', async () => {
    const result = await cli(['backfill', TASK, '--task-status', 'failed']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('recorded (0 transients)');
    expect(result.stdout).toContain('finished');
  }, 60_000);

  it('selects the stale results: no runner changed since these ran, so none is stale and nothing is reset', async () => {
    // (test/unit/backfill.test.ts changes a runner's version and checks exactly the stale results are re-run)
    const result = await cli(['backfill', TASK, '--stale']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('recorded (0 transients)');
    expect(result.stdout).toContain('finished');
  }, 60_000);
});
