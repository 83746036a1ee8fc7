/**
 * The real registry and handlers on DynamoDB Local and the SQS emulator: transients travel the whole
 * example workflow through the emulated event sources and chaining.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../runners/registry';
import { ingestTransients } from '../../lib/engine/ingest';
import { outputOf } from '../../lib/engine/operations';
import { ProcessingStatus, processingStatus, progressPercent } from '../../lib/domain/workflow';
import type { LocalRuntime } from '../../lib/local/runtime';
import { readTransientFile } from '../../lib/fixtures/transient-files';
import { startTestRuntime, waitFor } from '../helpers/local-stack';

describe('Integration: the example workflow on the local runtime', () => {
  let runtime: LocalRuntime;
  const examples = readTransientFile('fixtures/sample_transients.yaml').transients.filter((transient) =>
    ['2010H', '2010ag', '2010ai'].includes(transient.name),
  );

  beforeAll(async () => {
    runtime = await startTestRuntime(registry, { tickMs: 500 });
    runtime.run();
  });
  afterAll(() => runtime?.stop());

  it("runs Blast's example transients to completed or blocked, recording every register", async () => {
    // Act
    const result = await ingestTransients(runtime.engine, examples, { announce: true });
    const { workflow, store } = runtime.engine;
    const records = await waitFor('every example transient to finish', async () => {
      const found = await store.transients.getMany(examples.map((transient) => transient.name));
      return found.length === 3 && found.every((record) => processingStatus(workflow, record.registers) !== ProcessingStatus.Processing) && found;
    });

    // Assess
    expect(result.created).toBe(3);
    const byName = new Map(records.map((record) => [record.transient.name, record]));
    const sn2010H = byName.get('2010H');
    expect(sn2010H?.processingStatus).toBe(ProcessingStatus.Completed);
    expect(progressPercent(workflow, sn2010H?.registers ?? {})).toBe(100);
    for (const task of workflow.order) {
      expect(sn2010H?.registers[task]).toMatchObject({ status: 'processed', attempt: 1 });
      expect(sn2010H?.registers[task]?.processingSeconds).toBeGreaterThanOrEqual(0);
      expect(sn2010H?.registers[task]?.lastModified).toBeGreaterThan(0);
    }
    expect(await outputOf(runtime.engine, '2010H', 'Host match')).toMatchObject({ host: 'IC 494' });
    expect(await outputOf(runtime.engine, '2010H', 'Host information')).toMatchObject({ redshift: 0.015355, redshiftSource: 'host' });
    expect(await outputOf(runtime.engine, '2010ag', 'Host match')).toMatchObject({ host: 'UGC 10679' });

    // 2010ai has no catalogued host within the search radius: Host match errs and everything after it is blocked.
    const sn2010ai = byName.get('2010ai');
    expect(sn2010ai?.registers['Host match']?.status).toBe('no GHOST match');
    expect(sn2010ai?.registers['Host information']?.status).toBe('not processed');
    expect(sn2010ai?.processingStatus).toBe(ProcessingStatus.Blocked);
  });

  it('ingesting the same transients again changes nothing', async () => {
    const before = await runtime.engine.store.transients.getMany(['2010H']);
    const again = await ingestTransients(runtime.engine, examples, { announce: true });
    const after = await runtime.engine.store.transients.getMany(['2010H']);
    expect(again).toMatchObject({ created: 0, existing: 3 });
    expect(after).toEqual(before);
  });
});

describe('Integration: the local runtime and its process', () => {
  it("sets the handlers' environment while it runs and puts the process's back when it stops", async () => {
    // Prepare: one variable the process already has, one it has not
    const [kept, fresh] = ['POWERTOOLS_LOG_LEVEL', 'BLAST_TEST_ONLY_VARIABLE'];
    const saved = process.env[kept];
    process.env[kept] = 'WARN';
    delete process.env[fresh];

    try {
      // Act
      const runtime = await startTestRuntime(registry, { environment: { [kept]: 'ERROR', [fresh]: 'set' } });
      const whileRunning = { kept: process.env[kept], fresh: process.env[fresh], table: process.env.TABLE_NAME };
      await runtime.stop();

      // Assess
      expect(whileRunning).toEqual({ kept: 'ERROR', fresh: 'set', table: runtime.resources.tableName });
      expect(process.env[kept]).toBe('WARN');
      expect(fresh in process.env).toBe(false);
      expect(process.env.TABLE_NAME).not.toBe(runtime.resources.tableName);
    } finally {
      if (saved === undefined) delete process.env[kept];
      else process.env[kept] = saved;
    }
  });

  it('leaves the process environment as it was when it fails to start', async () => {
    // Act: its handlers cannot be loaded, after the environment was set for them
    const failed = startTestRuntime(registry, { environment: { BLAST_TEST_ONLY_VARIABLE: 'set' }, loadHandlers: () => Promise.reject(new Error('no handlers here')) });

    // Assess
    await expect(failed).rejects.toThrow('no handlers here');
    expect('BLAST_TEST_ONLY_VARIABLE' in process.env).toBe(false);
  });
});
