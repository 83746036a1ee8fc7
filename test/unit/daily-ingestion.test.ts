import { describe, expect, it, vi } from 'vitest';
import { dailyCsv, zipDailyCsv } from '../../lib/local/tns-stand-in';
import type { SystemTaskContext, Transient, UpsertSummary } from '../../lib/runner';
import { TnsReplyError } from '../../runners/tns/client';
import { MAX_DAILY_CSV_BYTES } from '../../runners/tns/daily-file';
import { DailyOutcome, ingestDailyFile } from '../../runners/tns/ingestion';
import { zipBomb } from '../helpers/zip-bomb';

const DATE = '20240115';
const zipOf = (names: string[]) =>
  zipDailyCsv(DATE, dailyCsv(DATE, names.map((objname, i) => ({ objname, radeg: i, decdeg: 0, discoverydate: '2024-01-15 00:00:00' }))));

/** A context whose upserts finish when the test says, recording what happens in order. */
const fakeContext = (finishOrder: (batch: number) => number) => {
  const events: string[] = [];
  let state: Record<string, unknown> | undefined;
  let batch = 0;
  const unused = () => {
    throw new Error('not used here');
  };
  const context: SystemTaskContext = {
    signal: new AbortController().signal,
    logger: { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() },
    now: () => Date.parse('2024-01-16T01:00:00Z'),
    upsert: async (transients: readonly Transient[]): Promise<UpsertSummary> => {
      const id = batch++;
      events.push(`start ${transients.map((transient) => transient.name).join(',')}`);
      await new Promise((resolve) => setTimeout(resolve, 20 * finishOrder(id)));
      events.push(`end ${transients.map((transient) => transient.name).join(',')}`);
      return { created: transients.length, updated: 0, unchanged: 0, tasksReset: 0, rejected: [] };
    },
    readState: async () => state,
    writeState: async (next) => {
      state = next;
      events.push(`checkpoint ${String(next.rowsDone)}${next.finished ? ' finished' : ''}`);
    },
    metric: vi.fn(),
    ingest: unused,
    counts: unused,
    recount: unused,
    recoverStalled: unused,
    processingStatuses: unused,
    secret: unused,
    scratch: unused,
    pruneArtifacts: unused,
  };
  return { context, events };
};

describe('Function: ingestDailyFile', () => {
  it('upserts batches side by side but moves the checkpoint only past batches whose predecessors are done', async () => {
    // Prepare: the first batch finishes last.
    const { context, events } = fakeContext((batch) => (batch === 0 ? 5 : 1));
    const client = { dailyFile: async () => zipOf(['a', 'b', 'c', 'd', 'e', 'f']) };

    // Act
    const report = await ingestDailyFile(context, client, DATE, { batchRows: 2, concurrency: 3 });

    // Assess
    expect(report).toMatchObject({ outcome: DailyOutcome.Ingested, rowsDone: 6, created: 6 });
    expect(events.filter((event) => event.startsWith('checkpoint'))).toEqual(['checkpoint 6', 'checkpoint 6 finished']);
    expect(events.slice(0, 3)).toEqual(['start a,b', 'start c,d', 'start e,f']);
  });

  it('applies two reports of one transient in the order of the file', async () => {
    const { context, events } = fakeContext((batch) => (batch === 0 ? 5 : 1));
    const client = { dailyFile: async () => zipOf(['a', 'b', 'c', 'a']) };

    await ingestDailyFile(context, client, DATE, { batchRows: 2, concurrency: 3 });

    expect(events.indexOf('start c,a')).toBeGreaterThan(events.indexOf('end a,b'));
  });

  it('stops when the first upsert fails, keeping the checkpoint before it', async () => {
    const { context, events } = fakeContext(() => 1);
    const failing: SystemTaskContext = { ...context, upsert: async () => Promise.reject(new Error('ProvisionedThroughputExceeded')) };

    await expect(ingestDailyFile(failing, { dailyFile: async () => zipOf(['a', 'b', 'c']) }, DATE, { batchRows: 2 })).rejects.toThrow(
      'ProvisionedThroughputExceeded',
    );
    expect(events.filter((event) => event.startsWith('checkpoint'))).toEqual([]);
  });

  it('fails the run on a zip bomb with a clear error, before upserting or checkpointing anything', async () => {
    // Prepare: a daily file that inflates past the cap.
    const { context, events } = fakeContext(() => 1);
    const bomb = await zipBomb(`tns_public_objects_${DATE}.csv`, MAX_DAILY_CSV_BYTES + 1024 * 1024, 'name,ra,declination,discoverydate\n');

    // Act
    const attempt = ingestDailyFile(context, { dailyFile: async () => bomb }, DATE);

    // Assess
    await expect(attempt).rejects.toThrow(TnsReplyError);
    await expect(attempt).rejects.toThrow(/inflates to more than 268435456 bytes/);
    expect(events).toEqual([]);
  });
});
