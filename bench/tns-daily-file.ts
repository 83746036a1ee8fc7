/**
 * Benchmark: a TNS daily file of N rows through the missed-TNS ingestion (download, unzip, stream the CSV,
 * upsert in batches with a checkpoint per batch) on DynamoDB Local, served by the local TNS stand-in.
 * Prints wall time, rows per second, peak memory and the DynamoDB capacity units by operation, first with
 * every row new, then for the same file again (every row unchanged).
 *
 *   npx tsx bench/tns-daily-file.ts [--rows 100000] [--batch 500]
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { parseArgs } from 'node:util';
import { registry } from '../runners/registry';
import { IngestMissedTnsTransients } from '../runners/ingest-missed-tns-transients';
import { createEngine } from '../lib/bootstrap/create-engine';
import { systemTaskContext } from '../lib/engine/system';
import { localClientConfig, startDynamoDbLocal } from '../lib/local/services';
import { TnsStandIn, type TnsObjectRecord, dailyCsv, localTnsCredentials } from '../lib/local/tns-stand-in';
import { secretSource } from '../lib/secrets/secret-source';
import { createTableInput } from '../lib/store/dynamodb/table';
import { ingestDailyFile, tnsClientFor } from '../runners/tns/ingestion';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' }, batch: { type: 'string', default: '500' } } });
const rows = Number(values.rows);
const batchRows = Number(values.batch);

/** Deterministic, TNS-like objects spread over the sky, a tenth with a redshift. */
const objects: TnsObjectRecord[] = Array.from({ length: rows }, (_, i) => ({
  objname: `2025b${i.toString(36)}`,
  objid: 200_000 + i,
  name_prefix: i % 10 === 0 ? 'SN' : 'AT',
  radeg: (i * 137.50776) % 360,
  decdeg: ((i * 57.2957) % 180) - 90,
  redshift: i % 10 === 0 ? 0.01 + (i % 90) / 1000 : null,
  object_type: i % 10 === 0 ? { name: 'SN Ia', id: 3 } : { name: null, id: null },
  discoverydate: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString().replace('T', ' ').replace('Z', ''),
  discoverymag: 18.2,
  reporters: 'A. Astronomer, B. Observer, on behalf of a survey',
  internal_names: `ZTF25a${i.toString(36)}, ATLAS25${i.toString(36)}`,
}));

const date = '20250102';
const csv = dailyCsv(date, objects);

class Meter {
  readonly byOperation = new Map<string, { requests: number; units: number }>();
  record(operation: string, capacity: ConsumedCapacity | ConsumedCapacity[] | undefined) {
    const units = [capacity ?? []].flat().reduce((sum, entry) => sum + (entry.CapacityUnits ?? 0), 0);
    const entry = this.byOperation.get(operation) ?? { requests: 0, units: 0 };
    entry.requests++;
    entry.units += units;
    this.byOperation.set(operation, entry);
  }
  reset() {
    this.byOperation.clear();
  }
}

const main = async () => {
  const dynamodb = await startDynamoDbLocal();
  const tns = await TnsStandIn.start({ objects: [], dailyFiles: { [date]: csv }, rateLimit: 1000 });
  const meter = new Meter();
  try {
    const dynamo = new DynamoDBClient(localClientConfig(dynamodb.endpoint));
    const tableName = `bench-tns-${Date.now().toString(36)}`;
    await dynamo.send(new CreateTableCommand(createTableInput(tableName)));
    const engine = createEngine(
      { tableName, queueUrls: {}, deadLetterQueueArns: {}, fixturesDir: 'fixtures', retryBaseSeconds: 10 },
      { serviceName: 'bench', runners: registry, dynamo, sqs: new SQSClient(localClientConfig('http://127.0.0.1:9')), capacityMeter: meter },
    );
    const secrets = secretSource({}, { TNS_BOT_ID: localTnsCredentials.botId, TNS_BOT_NAME: localTnsCredentials.botName, TNS_BOT_API_KEY: localTnsCredentials.apiKey, TNS_API_URL: tns.url });
    const runner = new IngestMissedTnsTransients();
    console.log(`daily file: ${rows.toLocaleString()} rows, ${(csv.length / 1e6).toFixed(1)} MB of CSV; batches of ${batchRows}`);

    for (const pass of ['every row new', 'the same file again']) {
      const context = systemTaskContext(engine, runner, { secrets }, new AbortController().signal);
      if (pass !== 'every row new') await context.writeState({});
      meter.reset();
      global.gc?.();
      const baseline = process.memoryUsage();
      let peakRss = baseline.rss;
      let peakHeap = baseline.heapUsed;
      const sampler = setInterval(() => {
        const now = process.memoryUsage();
        peakRss = Math.max(peakRss, now.rss);
        peakHeap = Math.max(peakHeap, now.heapUsed);
      }, 50);
      const started = performance.now();
      const report = await ingestDailyFile(context, await tnsClientFor(context), date, { batchRows });
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      const units = [...meter.byOperation.values()].reduce((sum, entry) => sum + entry.units, 0);
      console.log(`\n${pass}: ${report.outcome}, ${report.rowsDone.toLocaleString()} rows in ${seconds.toFixed(1)} s (${Math.round(report.rowsDone / seconds)} rows/s)`);
      console.log(`  created ${report.created}, updated ${report.updated}, unchanged ${report.unchanged}, rejected ${report.rejected}`);
      console.log(`  peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (baseline ${(baseline.rss / 2 ** 20).toFixed(0)} MiB, which holds the stand-in's copy of the file); peak heap ${(peakHeap / 2 ** 20).toFixed(0)} MiB`);
      console.log(`  DynamoDB: ${units.toFixed(0)} capacity units, ${(units / Math.max(1, report.rowsDone)).toFixed(2)} per row`);
      for (const [operation, entry] of [...meter.byOperation].sort((a, b) => b[1].units - a[1].units)) {
        console.log(`    ${operation.padEnd(18)} ${String(entry.requests).padStart(7)} requests ${entry.units.toFixed(0).padStart(9)} units`);
      }
    }
  } finally {
    await tns.stop();
    await dynamodb.stop();
  }
};

await main();
