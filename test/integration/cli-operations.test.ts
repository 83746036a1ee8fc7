/**
 * The operator's CLI as a user runs it, against the local runtime started with `start --keep-running` (its own
 * endpoints file, its schedules slowed right down so that only chaining moves work and a test can hold a
 * transient in the ready index): ingest, status, list, retrigger, reprocess, dlq, graph, and the exit codes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../runners/registry';
import { documentClient } from '../../lib/bootstrap/create-engine';
import { renderMermaid } from '../../lib/domain/graph';
import { assertValidRegistry } from '../../lib/domain/validation';
import { ProcessingStatus, blockedTasks, dependencyEdges, processingStatus } from '../../lib/domain/workflow';
import { loadCatalog } from '../../lib/fixtures/load-catalog';
import { freePort, localClientConfig } from '../../lib/local/services';
import type { TaskStore } from '../../lib/engine/store';
import { dynamoTaskStore } from '../../lib/store/dynamodb';
import { shardOf } from '../../lib/domain/ordering';
import { isTransientRunner } from '../../lib/runner';
import { readTransientFile } from '../../lib/fixtures/transient-files';
import { registers } from '../helpers/factories';
import { currentTasks, inputTasks } from '../../lib/domain/staleness';
import type { Register, Registers } from '../../lib/domain/workflow';
import { fakeCloudFormation } from '../helpers/fake-cloudformation';
import { type Result, type Run, cli as cliProcess, endpointsOf, interrupt, lines, runCli } from '../helpers/cli-process';
import { waitFor } from '../helpers/local-stack';

interface Endpoints {
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  readonly region: string;
  readonly tableName: string;
  readonly queues: Record<string, { url: string; deadLetterUrl: string }>;
}

const dir = mkdtempSync(join(tmpdir(), 'cli-operations-'));
const stateFile = join(dir, 'endpoints.json');
const workflow = assertValidRegistry(loadCatalog('fixtures'), registry);
const examples = ['2010H', '2010ag', '2010ai'];
/** How many tasks one failed task holds back, in the registry's workflow (so a new runner changes no expectation here). */
const blockedBehind = (task: string, status: string) => blockedTasks(workflow, registers({ [task]: status })).size;
const current = currentTasks(registry);
const versionOf = (task: string) => current.get(task)?.version ?? '';

/** Runs one CLI command to its end, on this file's runtime unless told another endpoints file. */
const cli = (args: readonly string[], options: { env?: Record<string, string>; stateFile?: string } = {}): Promise<Result> =>
  runCli(['--state-file', options.stateFile ?? stateFile, ...args], options.env);

const oneErrorLine = (result: Result) => {
  expect(result.stdout, result.stderr).toBe('');
  expect(lines(result.stderr), result.stderr).toHaveLength(1);
  return result.stderr.trim();
};

/** Writes transients as a JSON file (one of the accepted formats) and returns its path. */
const transientsFile = (name: string, transients: readonly Record<string, unknown>[]) => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(transients));
  return file;
};
/** A transient at 2010H's position (a catalogued host, so the example workflow completes). */
const like2010H = (name: string, day = 1) => ({ name, ra: 121.6015, dec: 1.03586, public_timestamp: new Date(Date.UTC(2021, 0, day)).toISOString() });

describe('CLI: operating the local runtime', () => {
  let start: Run;
  let endpoints: Endpoints;
  let store: TaskStore;
  let sqs: SQSClient;

  const finished = (names: readonly string[], timeoutMs = 60_000) =>
    waitFor(
      `${names.join(', ')} to be completed or blocked`,
      async () => {
        const records = await store.transients.getMany(names);
        const done = records.every((record) => {
          const status = processingStatus(workflow, record.registers);
          return status !== ProcessingStatus.Processing && record.processingStatus === status;
        });
        return records.length === names.length && done && records;
      },
      timeoutMs,
    );

  /** Puts a task message straight into the runner's dead-letter queue, as if it had used up its deliveries. */
  const forceDeadLetter = async (transient: string, task: string) => {
    await sqs.send(
      new SendMessageCommand({ QueueUrl: endpoints.queues[task]?.deadLetterUrl, MessageBody: JSON.stringify({ transient, task, readyAt: Date.now() }) }),
    );
    await waitFor(`the dead letter of ${transient} to be recorded`, async () => (await store.transients.get(transient))?.registers[task]?.deadLettered);
  };

  beforeAll(async () => {
    const transients = readTransientFile('fixtures/sample_transients.yaml').transients.filter((transient) => examples.includes(transient.name));
    const file = join(dir, 'examples.json');
    writeFileSync(file, JSON.stringify(transients.map((t) => ({ name: t.name, ra: t.raDeg, dec: t.decDeg, public_timestamp: t.publicTimestamp, class: t.spectroscopicClass }))));
    // A 60 s period lasts an hour here: nothing leaves the ready index unless the test sends it.
    start = cliProcess(['--state-file', stateFile, 'start', '--keep-running', '--tick', '3600000', '--transients', file]);
    endpoints = await endpointsOf<Endpoints>(start, stateFile);
    store = dynamoTaskStore(documentClient(new DynamoDBClient(localClientConfig(endpoints.dynamodbEndpoint))), endpoints.tableName);
    sqs = new SQSClient(localClientConfig(endpoints.sqsEndpoint));
  }, 240_000);

  afterAll(async () => {
    sqs?.destroy();
    if (start) await interrupt(start);
  }, 60_000);

  it('ingests the good rows of a file, names each bad row by number, and changes nothing the second time', async () => {
    // Prepare
    const file = join(dir, 'mixed.csv');
    writeFileSync(
      file,
      [
        'name,ra,dec,public_timestamp,redshift,class',
        'cli-good-1,121.6015,1.03586,2021-01-01T00:00:00Z,0.015,SN Ia',
        'cli-bad-ra,400,1.0,2021-01-02T00:00:00Z,,',
        'cli-good-2,255.97346,31.50172,2021-01-03T00:00:00Z,,',
        'cli-no-time,10,10,,,',
        'cli-good-1,1,1,2021-01-04T00:00:00Z,,',
        'cli-good-3,194.85012,27.99642,2021-01-05T00:00:00Z,,',
      ].join('\n'),
    );
    const good = ['cli-good-1', 'cli-good-2', 'cli-good-3'];

    // Act
    const first = await cli(['ingest', file]);
    const before = await finished(good);
    const second = await cli(['ingest', file]);
    const after = await store.transients.getMany(good);

    // Assess
    expect(first.code).toBe(1);
    expect(lines(first.stderr)).toEqual([
      `✗ ${file}: row 2 (line 3): ra must be in [0, 360)`,
      `✗ ${file}: row 4 (line 5): public timestamp is missing`,
      `✗ ${file}: row 5 (line 6): "cli-good-1" already appears in row 1`,
    ]);
    expect(first.stdout.trim()).toBe(`ingested 3 new transients from ${file}; their first tasks are on their way; 3 of 6 rows rejected (see above)`);
    expect(before.map((record) => record.transient.name).sort()).toEqual(good);
    expect(await store.transients.getMany(['cli-bad-ra', 'cli-no-time'])).toEqual([]);
    expect(second.stdout.trim()).toBe(`ingested 0 new transients from ${file}; 3 already known, left as they were; 3 of 6 rows rejected (see above)`);
    expect(after).toEqual(before);
  }, 120_000);

  it('ingest says what is wrong with the file itself in one line, quotes none of its bytes, and lists at most 20 rejected rows', async () => {
    // Prepare: files a newcomer tries; an endpoints file whose ports nothing listens on (the file is checked first)
    const stale = join(dir, 'stale-for-files.json');
    writeFileSync(stale, JSON.stringify({ ...endpoints, dynamodbEndpoint: `http://127.0.0.1:${await freePort()}`, sqsEndpoint: `http://127.0.0.1:${await freePort()}` }));
    const binary = join(dir, 'binary.csv');
    writeFileSync(binary, Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x00, 0xff, 0xfe, 0x1b, 0x5d, 0x30, 0x3b, 0x07]));
    const junk = join(dir, 'junk.csv');
    writeFileSync(junk, ['name,ra,dec,public_timestamp', ...Array.from({ length: 5_000 }, (_, i) => `junk-${i},north,up,yesterday`)].join('\n'));

    // Act
    const [missing, directory, unreadable, junked] = await Promise.all([
      cli(['ingest', join(dir, 'missing.csv')], { stateFile: stale }),
      cli(['ingest', dir], { stateFile: stale }),
      cli(['ingest', binary], { stateFile: stale }),
      cli(['ingest', junk]),
    ]);

    // Assess
    expect([missing, directory, unreadable, junked].map((result) => result.code)).toEqual([1, 1, 1, 1]);
    expect(oneErrorLine(missing)).toBe(`✗ ${join(dir, 'missing.csv')}: no such file`);
    expect(oneErrorLine(directory)).toBe(`✗ ${dir}: is a directory, not a file`);
    expect(oneErrorLine(unreadable)).toBe(`✗ ${binary}: not a text file (a NUL byte at offset 4); expected YAML, JSON or CSV text`);
    expect(unreadable.stderr).not.toContain('\u001b');
    const rejected = lines(junked.stderr);
    expect(rejected).toHaveLength(21);
    expect(rejected[0]).toBe(`✗ ${junk}: row 1 (line 2): ra must be a number of degrees; dec must be a number of degrees; public timestamp is not a date (use ISO 8601)`);
    expect(rejected[20]).toBe(`✗ ${junk}: … and 4980 more rejected rows (5000 in all)`);
    expect(junked.stdout.trim()).toBe(`ingested 0 new transients from ${junk}; 5000 of 5000 rows rejected (see above)`);
  }, 60_000);

  it('shows a transient’s registers in workflow order, its progress, processing status and what blocks it', async () => {
    const [blocked, completed] = await Promise.all([cli(['status', '2010ai']), cli(['status', '2010H'])]);

    expect(blocked.code).toBe(0);
    const out = lines(blocked.stdout);
    expect(out[0]).toBe('2010ai · public 2010-03-08T00:00:00.000Z · ra 194.85012 · dec 27.99642 · SN Ia');
    expect(out[1]).toBe('progress 100% · blocked');
    expect(out[2]).toBe(`${blockedBehind('Host match', 'no GHOST match')} tasks blocked behind Host match (no GHOST match)`);
    expect(out[4]).toMatch(/^ {2}Task +Status +Last modified +Time +Attempt +Version +Runs +Note$/);
    const rows = out.slice(5);
    expect(rows.map((row) => workflow.order.find((task) => row.startsWith(`  ${task} `)))).toEqual(workflow.order);
    expect(rows[workflow.order.indexOf('Host match')]).toMatch(
      new RegExp(`^ {2}Host match +no GHOST match +\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ +\\d+\\.\\d\\d s +1 +${versionOf('Host match')} +1$`),
    );
    expect(rows[workflow.order.indexOf('Host information')]).toMatch(/^ {2}Host information +not processed +\S+ +blocked by Host match \(no GHOST match\)$/);

    expect(completed.code).toBe(0);
    expect(lines(completed.stdout)[1]).toBe('progress 100% · completed');
    expect(lines(completed.stdout).slice(4).every((row) => / processed /.test(row))).toBe(true);
  }, 60_000);

  it('lists transients by processing status, a page at a time, and prints how to get the next page', async () => {
    const [blocked, firstPage] = await Promise.all([cli(['list', '--status', 'blocked']), cli(['list', '--status', 'completed', '--limit', '1'])]);
    const after = /--after '([^']+)'/.exec(firstPage.stdout)?.[1];
    const secondPage = await cli(['list', '--status', 'completed', '--limit', '1', '--after', after ?? '']);

    expect(blocked.code).toBe(0);
    expect(blocked.stdout).toMatch(
      new RegExp(`^ {2}2010ai +100% +blocked +Host match: no GHOST match \\(${blockedBehind('Host match', 'no GHOST match')} tasks blocked\\)$`, 'm'),
    );
    expect(blocked.stdout).not.toMatch(/2010H/);
    // Completed, oldest first: 2010H (2010-01-16), then 2010ag (2010-03-05).
    expect(lines(firstPage.stdout)[1]).toMatch(/^ {2}2010H +100% +completed/);
    expect(firstPage.stdout).toContain(
      `1 transient shown, oldest first; more: npm run cli -- --state-file "${stateFile}" list --status completed --limit 1 --after '2010-01-16T00:00:00.000Z#2010H'`,
    );
    expect(lines(secondPage.stdout)[1]).toMatch(/^ {2}2010ag +100% +completed/);
  }, 60_000);

  it('retrigger after a failure finishes the workflow', async () => {
    // Prepare: Cutout download dead-lettered (as if every delivery had died), so the whole workflow is blocked.
    await cli(['ingest', '--no-announce', transientsFile('retrigger.json', [like2010H('cli-retrigger')])]);
    await forceDeadLetter('cli-retrigger', 'Cutout download');
    const failed = await cli(['status', 'cli-retrigger']);
    expect(failed.stdout).toContain(`${blockedBehind('Cutout download', 'failed')} tasks blocked behind Cutout download (failed)`);

    // Act
    const result = await cli(['retrigger', 'cli-retrigger', '--wait']);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(lines(result.stdout)[0]).toBe('retriggered cli-retrigger: reset to "not processed": Cutout download (was failed); sent Cutout download');
    expect(result.stdout).toContain('progress 100% · completed');
    expect(result.stderr).toMatch(/progress 100% · completed/);
    const [record] = await finished(['cli-retrigger']);
    expect(record?.processingStatus).toBe(ProcessingStatus.Completed);
    expect(record?.registers['Cutout download']?.deadLettered).toBeUndefined();
  }, 120_000);

  it('lists a message forced into the dead-letter queue and redrives it to completion', async () => {
    // Prepare
    await cli(['ingest', '--no-announce', transientsFile('dead.json', [like2010H('cli-dead-letter', 2)])]);
    await forceDeadLetter('cli-dead-letter', 'Cutout download');

    // Act
    const listed = await cli(['dlq', 'list', 'Cutout download']);
    const redriven = await cli(['dlq', 'redrive', 'CutoutDownload']);
    const [record] = await finished(['cli-dead-letter']);
    const empty = await cli(['dlq', 'list', 'cutout-download']);

    // Assess
    expect(listed.code).toBe(0);
    expect(lines(listed.stdout)[0]).toBe('Cutout download: 1 dead letter');
    expect(listed.stdout).toMatch(
      /^ {2}cli-dead-letter +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +1 +failed +recorded "failed": every delivery failed before the runner could finish$/m,
    );
    expect(listed.stdout).toContain(`send them back with: npm run cli -- --state-file "${stateFile}" dlq redrive "Cutout download"`);
    expect(redriven.code).toBe(0);
    expect(redriven.stdout.trim()).toBe('sent 1 dead letter back to the Cutout download queue: cli-dead-letter');
    expect(record?.processingStatus).toBe(ProcessingStatus.Completed);
    expect(empty.stdout.trim()).toBe('no dead letters for Cutout download');
  }, 120_000);

  it('against a half-crashed stack (the SQS emulator gone), retrigger and redrive claim no send: one line each, exit 1', async () => {
    // Prepare: two transients whose first task is dead-lettered; an endpoints file whose SQS emulator is gone
    await cli(['ingest', '--no-announce', transientsFile('half.json', [like2010H('cli-half-retrigger', 3), like2010H('cli-half-redrive', 4)])]);
    await forceDeadLetter('cli-half-retrigger', 'Cutout download');
    await forceDeadLetter('cli-half-redrive', 'Cutout download');
    const deadSqs = `127.0.0.1:${await freePort()}`;
    const halfCrashed = join(dir, 'half-crashed.json');
    writeFileSync(halfCrashed, readFileSync(stateFile, 'utf8').replaceAll(new URL(endpoints.sqsEndpoint).host, deadSqs));

    // Act
    const retriggered = await cli(['retrigger', 'cli-half-retrigger'], { stateFile: halfCrashed });
    const redriven = await cli(['dlq', 'redrive', 'Cutout download', 'cli-half-redrive'], { stateFile: halfCrashed });

    // Assess: what happened, and only that; nothing claimed as sent, no stack trace
    const refused = `the SQS emulator: connection refused at ${deadSqs}`;
    expect(retriggered.code).toBe(1);
    expect(oneErrorLine(retriggered)).toBe(
      `✗ retriggered cli-half-retrigger: reset to "not processed": Cutout download (was failed); not sent: Cutout download (${refused}), recorded as ready for the dispatcher's next run`,
    );
    expect(redriven.code).toBe(1);
    expect(oneErrorLine(redriven)).toBe(
      `✗ cli-half-redrive: reset to "not processed" but not sent (${refused}); recorded as ready for the dispatcher's next run, and the dead letter is kept`,
    );
    // What was said was recorded is: the ready marker for the dispatcher, and the dead letter kept.
    const shards = registry.filter(isTransientRunner).find((runner) => runner.taskName === 'Cutout download')?.readyShards ?? 1;
    const markers = await store.readiness.page('Cutout download', shardOf('cli-half-retrigger', shards), 1_000);
    expect(markers.items.map((marker) => marker.name)).toContain('cli-half-retrigger');
    expect((await store.transients.get('cli-half-retrigger'))?.registers['Cutout download']?.status).toBe('not processed');
    const listed = await cli(['dlq', 'list', 'Cutout download']);
    expect(listed.stdout).toMatch(/^ {2}cli-half-redrive /m);

    // And once the stack is whole again, the same commands finish the work (and leave the later tests a clean list).
    expect((await cli(['retrigger', 'cli-half-retrigger'])).stdout).toMatch(/sent Cutout download/);
    expect((await cli(['dlq', 'redrive', 'Cutout download', 'cli-half-redrive'])).code).toBe(0);
    const records = await finished(['cli-half-retrigger', 'cli-half-redrive']);
    expect(records.map((record) => record.processingStatus)).toEqual([ProcessingStatus.Completed, ProcessingStatus.Completed]);
  }, 120_000);

  it('reprocess during in-flight runs ends with every transient in a consistent state', async () => {
    // Prepare: twenty transients on their way through the workflow.
    const names = Array.from({ length: 20 }, (_, i) => `cli-flight-${i}`);
    await cli(['ingest', transientsFile('flight.json', names.map((name, i) => like2010H(name, 10 + i)))]);
    const since = Date.now();

    // Act
    const results = await Promise.all(names.slice(0, 3).map((name) => cli(['reprocess', name])));
    const records = await finished(names, 120_000);

    // Assess: every reprocess answered; every transient completed with every register processed once more
    // after the reset for the reprocessed ones, and its stored processing status agrees with its registers.
    for (const [index, result] of results.entries()) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^reprocessing cli-flight-${index}: ${workflow.order.length} tasks reset to "not processed"; sent Cutout download`));
    }
    for (const record of records) {
      expect(record.processingStatus, record.transient.name).toBe(ProcessingStatus.Completed);
      expect(workflow.order.every((task) => record.registers[task]?.status === 'processed'), record.transient.name).toBe(true);
    }
    for (const record of records.filter((r) => names.slice(0, 3).includes(r.transient.name))) {
      expect(workflow.order.every((task) => (record.registers[task]?.lastModified ?? 0) >= since), record.transient.name).toBe(true);
    }
  }, 180_000);

  it('draws the example workflow as the registry declares it, coloured by a transient', async () => {
    const [mermaid, dot, badFormat] = await Promise.all([
      cli(['graph']),
      cli(['graph', '--format', 'dot', '--transient', '2010ai']),
      cli(['graph', '--format', 'svg']),
    ]);

    // Every node is a task of the registry and every edge one of its prerequisites; together the edges keep every ordering.
    expect(mermaid.stdout).toBe(renderMermaid(workflow));
    const labels = new Map([...mermaid.stdout.matchAll(/^ {2}(\w+)\["([^"]+)"\]$/gm)].map((match) => [match[1], match[2]]));
    const edges = [...mermaid.stdout.matchAll(/^ {2}(\w+) --> (\w+)$/gm)].map((match) => [labels.get(match[1] ?? ''), labels.get(match[2] ?? '')]);
    expect([...labels.values()]).toEqual(workflow.order);
    for (const [from, to] of edges) {
      const spec = workflow.specs.get(to ?? '');
      expect(spec && dependencyEdges(spec), `${from} → ${to}`).toContain(from);
    }
    const reachable = (from: string, to: string): boolean => edges.some(([a, b]) => a === from && (b === to || reachable(b ?? '', to)));
    for (const [task, spec] of workflow.specs) for (const on of dependencyEdges(spec)) expect(reachable(on, task), `${on} → ${task}`).toBe(true);

    expect(dot.code).toBe(0);
    expect(dot.stdout).toContain('"Host match" [label="Host match\\nno GHOST match", fillcolor="#ffebe9"');
    expect(dot.stdout).toContain('"Host information" [label="Host information\\nnot processed · blocked"');
    expect(badFormat.code).toBe(2);
    expect(oneErrorLine(badFormat)).toMatch(/^✗ option '--format <format>' argument 'svg' is invalid/);
  }, 60_000);

  it('shows what a version change makes stale — the task and exactly the tasks after it that used its result — in status, list --stale and --json', async () => {
    // Prepare: a transient run to completion, then its Host match register as it would be had Host match run at an
    // older version (the version is all a register records of where its result came from).
    await cli(['ingest', transientsFile('stale.json', [like2010H('cli-stale')])]);
    const [done] = await finished(['cli-stale']);
    if (!done) throw new Error('cli-stale did not finish');
    const older: Registers = { 'Host match': { ...(done.registers['Host match'] as Register), version: 'old0' } };
    expect((await store.transients.replace('cli-stale', done, older, done.bucket)).ok).toBe(true);
    const expected = workflow.order.filter((task) => task === 'Host match' || inputTasks(workflow, task).includes('Host match'));

    // Act
    const [status, statusJson, stale, staleJson, notStale] = await Promise.all([
      cli(['status', 'cli-stale']),
      cli(['status', 'cli-stale', '--json']),
      cli(['list', '--stale', 'Host match']),
      cli(['list', '--stale', 'Host match', '--json']),
      cli(['list', '--stale', 'Cutout download', '--json']),
    ]);

    // Assess
    expect(status.code, status.stderr).toBe(0);
    const rows = lines(status.stdout).filter((row) => /stale: /.test(row));
    expect(rows.map((row) => workflow.order.find((task) => row.startsWith(`  ${task} `)))).toEqual(expected);
    expect(status.stdout).toMatch(new RegExp(`^ {2}Host match +processed .* old0 +1 +stale: version changed from old0 to ${versionOf('Host match')}$`, 'm'));
    expect(status.stdout).toMatch(/^ {2}Host information +processed .*stale: upstream Host match is stale$/m);
    const tasks = (JSON.parse(statusJson.stdout) as { tasks: { task: string; stale: boolean; version: string; currentVersion: string; attempts: number }[] }).tasks;
    expect(tasks.filter((task) => task.stale).map((task) => task.task)).toEqual(expected);
    expect(tasks.find((task) => task.task === 'Cutout download')).toMatchObject({ stale: false, version: versionOf('Cutout download'), currentVersion: versionOf('Cutout download'), attempts: 1 });
    expect(stale.stdout).toContain(`cli-stale: version changed from old0 to ${versionOf('Host match')}`);
    const listed = JSON.parse(staleJson.stdout) as { transients: { name: string; staleReasons: string[] }[] };
    expect(listed.transients.map((transient) => transient.name)).toEqual(['cli-stale']);
    expect((JSON.parse(notStale.stdout) as { transients: unknown[] }).transients).toEqual([]);
  }, 120_000);

  it("keeps every attempt through a reprocess: the old runs are still listed, and an old run's output can be read back", async () => {
    // Prepare: a transient run to completion
    await cli(['ingest', transientsFile('history.json', [like2010H('cli-history')])]);
    await finished(['cli-history']);
    const before = JSON.parse((await cli(['history', 'cli-history', 'Host match', '--json'])).stdout) as { runs: { run: string; status: string; current: boolean; version: string; log: string }[] };
    const [first] = before.runs;
    const firstOutput = JSON.parse((await cli(['history', 'cli-history', 'Host match', '--run', first?.run ?? '', '--json'])).stdout) as { output: { data: unknown } };

    // Act
    const reprocessed = await cli(['reprocess', 'cli-history', '--wait']);
    const [after, afterJson, oldRun, all] = await Promise.all([
      cli(['history', 'cli-history', 'Host match']),
      cli(['history', 'cli-history', 'Host match', '--json']),
      cli(['history', 'cli-history', 'Host match', '--run', first?.run ?? '']),
      cli(['history', 'cli-history', '--json']),
    ]);

    // Assess
    expect(reprocessed.code, reprocessed.stderr).toBe(0);
    expect(before.runs).toHaveLength(1);
    expect(first).toMatchObject({ status: 'processed', current: true, version: versionOf('Host match') });
    expect(first?.log).toMatch(/handlers\.log \(request [\w-]+\)$/);
    expect(firstOutput.output.data).toMatchObject({ separationArcsec: expect.any(Number) });
    const runs = (JSON.parse(afterJson.stdout) as { runs: { run: string; current: boolean }[] }).runs;
    expect(runs.map((run) => run.run)).toHaveLength(2);
    expect(runs[1]).toEqual(expect.objectContaining({ run: first?.run, current: false }));
    expect(runs[0]?.current).toBe(true);
    expect(lines(after.stdout)[0]).toBe('cli-history: 2 attempts of Host match, newest first (* the run whose result the register holds)');
    expect(oldRun.code, oldRun.stderr).toBe(0);
    expect(oldRun.stdout).toContain('(superseded)');
    expect(oldRun.stdout).toContain(`output ${JSON.stringify(firstOutput.output.data)}`);
    const tasks = new Set((JSON.parse(all.stdout) as { runs: { task: string }[] }).runs.map((run) => run.task));
    expect([...tasks].sort()).toEqual([...workflow.order].sort());
  }, 180_000);

  it('with --json, every command prints exactly one JSON document on stdout', async () => {
    // Prepare
    const file = transientsFile('json.json', [like2010H('cli-json')]);

    // Act: one after the other where one needs what another did
    const results: [string, Result][] = [];
    const run = async (...args: string[]) => results.push([args.join(' '), await cli([...args, '--json'])]);
    await run('validate');
    await run('target');
    await run('ingest', file);
    await finished(['cli-json']);
    await run('status', 'cli-json');
    await run('list');
    await run('list', '--status', 'completed', '--limit', '1');
    await run('list', '--stale', 'Host match');
    await run('history', 'cli-json');
    await run('retrigger', 'cli-json');
    await run('reprocess', 'cli-json', '--wait');
    await run('dlq', 'list', 'Host match');
    await run('dlq', 'redrive', 'Host match');
    await run('graph');
    await run('graph', '--transient', 'cli-json');

    // Assess
    for (const [command, result] of results) {
      expect(result.code, `${command}: ${result.stderr}`).toBe(0);
      expect(() => JSON.parse(result.stdout) as unknown, `${command}: ${result.stdout}`).not.toThrow();
    }
    const byCommand = new Map(results.map(([command, result]) => [command, JSON.parse(result.stdout) as Record<string, unknown>]));
    expect(byCommand.get('validate')).toMatchObject({ valid: true, issues: [] });
    expect(byCommand.get('ingest ' + file)).toMatchObject({ created: 1, rejected: [] });
    expect(byCommand.get('reprocess cli-json --wait')).toMatchObject({ operation: 'reprocess', processingStatus: 'completed', progress: 100 });
    expect(byCommand.get('graph --transient cli-json')).toMatchObject({ format: 'mermaid', statuses: { 'Host match': 'processed' } });
  }, 180_000);

  it('exits non-zero with one clear line: unknown transient, unknown runner, bad arguments, runtime not running, no stack', async () => {
    // Prepare: an endpoints file whose ports nothing listens on, and a CloudFormation that knows no stack.
    const stale = join(dir, 'stale.json');
    writeFileSync(stale, JSON.stringify({ ...endpoints, dynamodbEndpoint: `http://127.0.0.1:${await freePort()}`, sqsEndpoint: `http://127.0.0.1:${await freePort()}` }));
    const cloudFormation = await fakeCloudFormation({});
    const aws = { AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

    // Act
    const [unknownTransient, unknownRunner, badNumber, unknownCommand, notRunning, noStack, noStateFile] = await Promise.all([
      cli(['status', 'nobody']),
      cli(['dlq', 'list', 'Photometry wizard']),
      cli(['list', '--limit', 'ten']),
      cli(['frobnicate']),
      cli(['status', '2010H'], { stateFile: stale }),
      cli(['--stack', 'BlastTaskRunners', '--region', 'us-east-1', 'status', '2010H'], { env: aws }),
      cli(['status', '2010H'], { stateFile: join(dir, 'missing.json') }),
    ]);
    await cloudFormation.close();

    // Assess
    expect([unknownTransient, unknownRunner, badNumber, unknownCommand, notRunning, noStack, noStateFile].map((result) => result.code)).toEqual([1, 1, 2, 2, 1, 1, 1]);
    expect(oneErrorLine(unknownTransient)).toBe(`✗ unknown transient "nobody" in the local runtime (${stateFile}): ingest it first`);
    expect(oneErrorLine(unknownRunner)).toMatch(/^✗ unknown runner "Photometry wizard": the transient runners are "Cutout download", /);
    expect(oneErrorLine(badNumber)).toBe("✗ option '--limit <n>' argument 'ten' is invalid. expected a positive whole number (see --help)");
    expect(oneErrorLine(unknownCommand)).toMatch(/^✗ unknown command 'frobnicate'/);
    expect(oneErrorLine(notRunning)).toMatch(/^✗ the local runtime is not running: connection refused at 127\.0\.0\.1:\d+ .*start it with `npm start -- --keep-running`$/);
    expect(oneErrorLine(noStack)).toBe('✗ no stack found: stack "BlastTaskRunners" does not exist in us-east-1');
    expect(oneErrorLine(noStateFile)).toMatch(/^✗ no local runtime: .*missing\.json does not exist; start it with/);
  }, 60_000);

  it('finds a deployment from its stack outputs (CloudFormation stood in for, DynamoDB and SQS local)', async () => {
    const cloudFormation = await fakeCloudFormation({
      Staging: {
        TableName: endpoints.tableName,
        TaskQueueUrls: JSON.stringify(Object.fromEntries(Object.entries(endpoints.queues).map(([task, queue]) => [task, queue.url]))),
        DeadLetterQueueUrls: JSON.stringify(Object.fromEntries(Object.entries(endpoints.queues).map(([task, queue]) => [task, queue.deadLetterUrl]))),
        DashboardUrl: 'https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=Staging',
      },
    });
    const env = {
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodbEndpoint,
      AWS_ENDPOINT_URL_SQS: endpoints.sqsEndpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };

    const [target, status] = await Promise.all([
      cli(['--stack', 'Staging', '--region', 'us-east-1', 'target'], { env }),
      cli(['--stack', 'Staging', '--region', 'us-east-1', 'status', '2010H'], { env }),
    ]);
    await cloudFormation.close();

    expect(target.code, target.stderr).toBe(0);
    expect(lines(target.stdout)).toEqual([
      'stack Staging in us-east-1',
      `  table       ${endpoints.tableName}`,
      `  queues      ${Object.keys(endpoints.queues).length} runners, each with a dead-letter queue`,
      '  dashboard   https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=Staging',
    ]);
    expect(status.code, status.stderr).toBe(0);
    expect(lines(status.stdout)[1]).toBe('progress 100% · completed');
  }, 60_000);

  it('ingests 10,000 rows with a progress bar, then lists them a page at a time', async () => {
    // Prepare: left in the ready index (--no-announce), so the machine is not asked to run 120,000 tasks.
    const file = join(dir, 'ten-thousand.csv');
    const rows = Array.from({ length: 10_000 }, (_, i) => `bulk-${String(i).padStart(5, '0')},${(i * 0.036).toFixed(3)},${((i % 170) - 85).toFixed(1)},2024-01-01T00:00:00Z`);
    writeFileSync(file, ['name,ra,dec,public_timestamp', ...rows].join('\n'));

    // Act
    const ingested = await cli(['ingest', '--no-announce', file]);
    const page = await cli(['list', '--status', 'processing', '--limit', '3']);

    // Assess
    expect(ingested.code, ingested.stderr).toBe(0);
    expect(ingested.stdout.trim()).toBe(`ingested 10000 new transients from ${file}; the dispatcher sends their first tasks on its next run`);
    expect(ingested.stderr).toMatch(/^ingesting .* 100% · 10000\/10000 transients/m);
    expect(lines(page.stdout).slice(1, 4).map((row) => row.trim().split(/\s+/)[0])).toEqual(['bulk-00000', 'bulk-00001', 'bulk-00002']);
    expect(page.stdout).toContain("--after '2024-01-01T00:00:00.000Z#bulk-00002'");
    const stored = await store.transients.getMany(['bulk-00000', 'bulk-09999']);
    expect(stored.map((record) => record.processingStatus)).toEqual([ProcessingStatus.Processing, ProcessingStatus.Processing]);
  }, 400_000);
});
