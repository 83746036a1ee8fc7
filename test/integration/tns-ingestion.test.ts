/**
 * The TNS system runners through the real system-worker handler, on DynamoDB Local, the SQS emulator and the
 * local TNS stand-in: new transients run the workflow, a changed redshift resets exactly the tasks that
 * depend on it, the same data twice changes nothing, the daily file ingests its good rows and reports its
 * bad ones (and resumes where a cut-short run stopped), and the counters agree with the transients.
 */
import { outputOf } from '../../lib/engine/operations';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../runners/registry';
import { SystemTaskName } from '../../runners/system-tasks';
import { IngestMissedTnsTransients } from '../../runners/ingest-missed-tns-transients';
import { createSystemServices } from '../../lib/bootstrap/system-services';
import { loadConfig } from '../../lib/settings/config';
import { ProcessingStatus, processingStatus } from '../../lib/domain/workflow';
import { type SystemServices, systemTaskContext } from '../../lib/engine/system';
import { TaskName } from '../../lib/generated/fixtures';
import type { LocalRuntime } from '../../lib/local/runtime';
import { TnsStandIn, dailyCsv, loadTnsObjects } from '../../lib/local/tns-stand-in';
import { type SystemTaskContext, isTransientRunner } from '../../lib/runner';
import { dailyFileDate } from '../../runners/tns/daily-file';
import { DailyOutcome, ingestDailyFile, tnsClientFor } from '../../runners/tns/ingestion';
import { startTestRuntime, waitFor } from '../helpers/local-stack';

const TNS_INGESTION = SystemTaskName.TnsDataIngestion;
const MISSED_INGESTION = SystemTaskName.IngestMissedTnsTransients;
const SNAPSHOT = SystemTaskName.SnapshotTaskRegister;
const objects = loadTnsObjects();
const names = objects.map((object) => object.objname);

describe('Integration: TNS ingestion on the local runtime', () => {
  let runtime: LocalRuntime;
  let tns: TnsStandIn;
  let services: SystemServices;

  const context = (signal = new AbortController().signal): SystemTaskContext => {
    const runner = registry.find((candidate) => candidate.taskName === MISSED_INGESTION);
    if (!(runner instanceof IngestMissedTnsTransients)) throw new Error('the registry has no missed TNS ingestion');
    return systemTaskContext(runtime.engine, runner, services, signal);
  };

  /** What the count snapshot reads. */
  const counts = () => {
    const runner = registry.find((candidate) => candidate.taskName === SNAPSHOT);
    if (!runner || isTransientRunner(runner)) throw new Error('the registry has no count snapshot');
    return systemTaskContext(runtime.engine, runner, services, new AbortController().signal).counts();
  };

  const records = async (wanted: readonly string[]) =>
    (await runtime.engine.store.transients.getMany(wanted)).sort((a, b) => wanted.indexOf(a.transient.name) - wanted.indexOf(b.transient.name));

  const allFinished = (wanted: readonly string[]) =>
    waitFor(
      `${wanted.length} transients to finish`,
      async () => {
        const found = await records(wanted);
        return found.length === wanted.length && found.every((record) => processingStatus(runtime.engine.workflow, record.registers) !== ProcessingStatus.Processing) && found;
      },
      180_000,
    );

  beforeAll(async () => {
    tns = await TnsStandIn.start({ throttleEvery: 9 });
    // Schedules tick every second: the daily file's new transients wait for the dispatcher, as a bulk load does.
    runtime = await startTestRuntime(registry, { tickMs: 1_000, environment: tns.environment(), scratchDir: mkdtempSync(join(tmpdir(), 'scratch-')) });
    services = createSystemServices(loadConfig(process.env), process.env);
    runtime.run();
  });
  afterAll(async () => {
    await runtime?.stop();
    await tns?.stop();
  });

  it('ingests what TNS made public and runs it through the workflow, with its 429s waited out', async () => {
    // Act
    await runtime.invokeSystemRunner(TNS_INGESTION);

    // Assess: everything is in at once, then the workflow runs without a dispatcher tick.
    expect((await records(names)).map((record) => record.transient.name).sort()).toEqual([...names].sort());
    const finished = await allFinished(names);
    const sn2010H = finished.find((record) => record.transient.name === '2010H');
    expect(sn2010H?.processingStatus).toBe(ProcessingStatus.Completed);
    expect(sn2010H?.transient).toMatchObject({ raDeg: 121.6015, decDeg: 1.03586, publicTimestamp: '2010-01-16T00:00:00.000Z', spectroscopicClass: 'SN Ia' });
    expect(tns.requests.some((request) => request.status === 429)).toBe(true);
  }, 240_000);

  it('ingesting the same data again writes nothing', async () => {
    const before = await records(names);

    await runtime.invokeSystemRunner(TNS_INGESTION);

    expect(await records(names)).toEqual(before);
  }, 120_000);

  it('a new redshift resets exactly Host information and the tasks after it, which run again', async () => {
    // Prepare
    const [before] = await records(['2010H']);
    const unaffected = [TaskName.CutoutDownload, TaskName.TransientMWEBV, TaskName.HostMatch];
    const affected = runtime.engine.workflow.order.filter((task) => !unaffected.includes(task as (typeof unaffected)[number]));
    tns.revise('2010H', { redshift: 0.0161 });

    // Act
    await runtime.invokeSystemRunner(TNS_INGESTION);

    // Assess
    const [after] = await allFinished(['2010H']);
    expect(after?.transient.redshift).toBe(0.0161);
    expect(after?.processingStatus).toBe(ProcessingStatus.Completed);
    for (const task of unaffected) expect(after?.registers[task]).toEqual(before?.registers[task]);
    for (const task of affected) expect(after?.registers[task]?.lastModified).toBeGreaterThan(before?.registers[task]?.lastModified ?? Infinity);
    expect(await outputOf(runtime.engine, '2010H', TaskName.HostInformation)).toMatchObject({ redshift: 0.0161, redshiftSource: 'transient' });
  }, 240_000);

  it('ingests every good row of a daily file and reports each bad one with its row, line and reason', async () => {
    // Prepare: two new objects, a known one moved, and three bad rows.
    const date = '20240115';
    const good = dailyCsv(date, [
      { objname: '2024new1', radeg: 121.6, decdeg: 1.0359, discoverydate: '2024-01-15 01:00:00.000' },
      { ...objects[1], objname: '2010ag', decdeg: 31.5018 },
      { objname: '2024new2', radeg: 255.97, decdeg: 31.5, redshift: 'NaN', discoverydate: '2024-01-15 02:00:00.000' },
    ]).trimEnd().split('\n');
    const csv = [
      good[0],
      good[1],
      good[2],
      '"9","AT","2024bad1","north","1","","","","","","","","2024-01-15 03:00:00","","","","","","","",""',
      good[3],
      '"10","AT","","10","1","","","","","","","","2024-01-15 03:00:00","","","","","","","",""',
      '"11","AT","2024bad3","10","1","","","","","","","","not a date","","","","","","","",""',
      good[4],
    ].join('\n');
    await tns.stop();
    tns = await TnsStandIn.start({ dailyFiles: { [date]: csv } });
    const [moved] = await records(['2010ag']);
    process.env.TNS_API_URL = tns.url;

    // Act
    const report = await ingestDailyFile(context(), await tnsClientFor(context()), date, { batchRows: 2 });

    // Assess
    expect(report).toMatchObject({ outcome: DailyOutcome.Ingested, rowsDone: 6, created: 2, updated: 1, rejected: 3 });
    expect(report.rejections).toEqual([
      { row: 2, line: 4, reason: 'ra must be a number of degrees' },
      { row: 4, line: 6, reason: 'name is empty' },
      { row: 5, line: 7, reason: 'public timestamp is not a date (use ISO 8601)' },
    ]);
    const [after2010ag] = await records(['2010ag']);
    expect(after2010ag?.transient.decDeg).toBe(31.5018);
    expect(after2010ag?.registers[TaskName.CutoutDownload]?.lastModified).toBeGreaterThan(moved?.registers[TaskName.CutoutDownload]?.lastModified ?? Infinity);
    await allFinished(['2024new1', '2024new2', '2010ag']);
  }, 240_000);

  it("resumes yesterday's file where a run cut short stopped, then only reads its checkpoint", async () => {
    // Prepare: yesterday's file of 7 objects; the first run is stopped after its first batch of 3.
    const date = dailyFileDate(Date.now());
    const batch = Array.from({ length: 7 }, (_, i) => ({ objname: `2099r${i}`, radeg: 10 + i, decdeg: -20, discoverydate: '2099-01-01 00:00:00' }));
    await tns.stop();
    tns = await TnsStandIn.start({ dailyFiles: { [date]: dailyCsv(date, batch) } });
    process.env.TNS_API_URL = tns.url;
    const abort = new AbortController();
    const base = context(abort.signal);
    const stopping: SystemTaskContext = { ...base, upsert: async (...args) => base.upsert(...args).finally(() => abort.abort()) };

    // Act
    const first = await ingestDailyFile(stopping, await tnsClientFor(stopping), date, { batchRows: 3, concurrency: 1 });
    await runtime.invokeSystemRunner(MISSED_INGESTION);
    const third = await ingestDailyFile(context(), await tnsClientFor(context()), date);

    // Assess
    expect(first).toMatchObject({ outcome: DailyOutcome.Stopped, rowsDone: 3, created: 3 });
    expect((await records(batch.map((object) => object.objname))).length).toBe(7);
    expect(await base.readState()).toEqual({ file: date, rowsDone: 7, finished: true });
    expect(third).toMatchObject({ outcome: DailyOutcome.AlreadyIngested, rowsDone: 7 });
    expect(tns.requests.filter((request) => request.path.endsWith('.csv.zip'))).toHaveLength(2);
  }, 240_000);

  it('keeps counters that agree with every transient, through ingests, runs and resets', async () => {
    const all = await allFinished([...names, '2024new1', '2024new2', ...Array.from({ length: 7 }, (_, i) => `2099r${i}`)]);
    const tally = { processing: 0, blocked: 0, completed: 0 };
    for (const record of all) tally[processingStatus(runtime.engine.workflow, record.registers)]++;

    const expected = { waiting: 0, processing: 0, blocked: tally.blocked, completed: tally.completed, total: all.length };

    // A worker moves the counters just after the register write that finished its transient: wait for the
    // last ones to land, as the snapshot's next run would see them.
    let read = await counts();
    await waitFor('the counters to take in the last status writes', async () => {
      read = await counts();
      return JSON.stringify(read) === JSON.stringify(expected);
    }, 30_000).catch(() => undefined);

    expect(read).toEqual(expected);
  }, 240_000);
});
