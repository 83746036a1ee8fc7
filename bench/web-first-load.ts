#!/usr/bin/env -S npx tsx
/**
 * `npm run bench:web`: the web view's first load over loopback, in headless Chromium with a fresh profile each
 * time (nothing cached), against a warm local runtime holding the 46 sample transients and then 10,000. Measured:
 * from navigation to the grid's first page of rows drawn, the next page after that, and the API's answer for
 * one page alone. Figures, not assertions: the goal (under a second with the samples, usable with 10,000) is
 * read off the table. `--sizes 46,1000` and `--runs 5` change what is measured.
 */
import { Command, InvalidArgumentError } from 'commander';
import { ingestTransients } from '../lib/engine/ingest';
import { type LocalService, startLocalServices } from '../lib/local/services';
import { LocalRuntime } from '../lib/local/runtime';
import { startLocalWebView } from '../lib/local/web-view';
import { registry } from '../runners/registry';
import { launchBrowser } from './browser';
import { percentile } from './stats';
import { SAMPLE_TRANSIENTS, syntheticTransients } from './transients';
import { readTransientFile } from '../lib/fixtures/transient-files';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Rows the grid shows per page (web/src/grid.tsx). */
const PAGE_ROWS = 50;
const INGEST_BATCH = 500;
/** Reads of the page's first three API calls before measuring. */
const WARM_UP_CALLS = 30;

export interface FirstLoad {
  readonly transients: number;
  /** Milliseconds from navigation to the grid's rows drawn, one per run, each in a fresh browser profile. */
  readonly firstLoadMs: readonly number[];
  /** Milliseconds from clicking Next to the second page's rows drawn. */
  readonly nextPageMs: readonly number[];
  /** Milliseconds for GET /api/transients?limit=50 alone, from Node. */
  readonly apiMs: readonly number[];
  readonly rowsShown: number;
  /** The page's script and style sheet, gzipped. */
  readonly bundleGzipBytes: number;
}

/** One size: a runtime of its own with `transients` ingested (not run: the first load reads what is stored). */
export const measureFirstLoad = async (
  transients: number,
  runs: number,
  endpoints: { readonly dynamodb: string; readonly sqs: string },
  log: (line: string) => void = () => undefined,
): Promise<FirstLoad> => {
  const runtime = await LocalRuntime.start({ runners: registry, tickMs: 3_600_000, prefix: `web${transients}${Date.now().toString(36)}`, endpoints });
  try {
    const samples = readTransientFile(SAMPLE_TRANSIENTS).transients;
    const input = transients === samples.length ? samples : syntheticTransients(transients);
    for (let at = 0; at < input.length; at += INGEST_BATCH) {
      await ingestTransients(runtime.engine, input.slice(at, at + INGEST_BATCH), { announce: false });
      if (input.length > INGEST_BATCH) log(`  ingested ${Math.min(at + INGEST_BATCH, input.length)} of ${input.length}`);
    }
    const web = await startLocalWebView(runtime);
    const firstLoadMs: number[] = [];
    const nextPageMs: number[] = [];
    const apiMs: number[] = [];
    let rowsShown = 0;
    try {
      // The server as `npm start` leaves it (warm: its JIT and DynamoDB Local's have run); the browser cold each run.
      for (let call = 0; call < WARM_UP_CALLS; call++) {
        await Promise.all(['workflow', `transients?limit=${PAGE_ROWS}`, 'counts'].map(async (path) => (await fetch(`${web.url}api/${path}`)).text()));
      }
      for (let run = 0; run < runs; run++) {
        const started = performance.now();
        const answer = await fetch(`${web.url}api/transients?limit=${PAGE_ROWS}`);
        await answer.text();
        apiMs.push(performance.now() - started);
        const browser = await launchBrowser();
        try {
          const page = await browser.context.newPage();
          const rows = page.locator('[data-testid=grid] tr[data-name]');
          const navigation = performance.now();
          await page.goto(web.url, { waitUntil: 'commit' });
          await rows.nth(Math.min(PAGE_ROWS, transients) - 1).waitFor();
          firstLoadMs.push(performance.now() - navigation);
          rowsShown = await rows.count();
          if (transients > PAGE_ROWS) {
            const first = await rows.first().getAttribute('data-name');
            const clicked = performance.now();
            await page.getByTestId('next-page').click();
            await page.locator(`[data-testid=grid] tr[data-name="${first}"]`).waitFor({ state: 'detached' });
            await rows.nth(PAGE_ROWS - 1).waitFor();
            nextPageMs.push(performance.now() - clicked);
          }
        } finally {
          await browser.close();
        }
      }
    } finally {
      await web.stop();
    }
    return { transients, firstLoadMs, nextPageMs, apiMs, rowsShown, bundleGzipBytes: web.bundle.gzipBytes };
  } finally {
    await runtime.stop();
  }
};

const ms = (values: readonly number[]) => (values.length === 0 ? '—' : `${Math.round(percentile(values, 50))} ms`);

export const renderFirstLoads = (loads: readonly FirstLoad[]): string[] => [
  '| transients | first load (median) | next page (median) | API page alone (median) | rows shown | runs |',
  '|---:|---:|---:|---:|---:|---:|',
  ...loads.map((load) => `| ${load.transients} | ${ms(load.firstLoadMs)} | ${ms(load.nextPageMs)} | ${ms(load.apiMs)} | ${load.rowsShown} | ${load.firstLoadMs.length} |`),
  '',
  `bundle: ${((loads[0]?.bundleGzipBytes ?? 0) / 1024).toFixed(1)} KB gzipped (script and style sheet)`,
];

const sizes = (text: string) => {
  const values = text.split(',').map(Number);
  if (values.some((value) => !Number.isInteger(value) || value <= 0)) throw new InvalidArgumentError('expected positive whole numbers, comma-separated');
  return values;
};

const main = async () => {
  const options = new Command()
    .name('bench:web')
    .description("the web view's first load over loopback, with the sample transients and with many")
    .option('--sizes <n,n>', 'transients in the table, one measurement each', sizes, [46, 10_000])
    .option('--runs <n>', 'first loads per size, each in a fresh browser profile', (text) => sizes(text)[0] ?? 3, 3)
    .parse()
    .opts<{ sizes: number[]; runs: number }>();
  let services: LocalService[] = [];
  try {
    process.stderr.write('starting DynamoDB Local and the SQS emulator…\n');
    services = await startLocalServices();
    const [dynamodb, sqs] = services;
    const loads: FirstLoad[] = [];
    for (const size of options.sizes) {
      process.stderr.write(`${size} transients…\n`);
      loads.push(await measureFirstLoad(size, options.runs, { dynamodb: dynamodb?.endpoint ?? '', sqs: sqs?.endpoint ?? '' }, (line) => process.stderr.write(`${line}\n`)));
    }
    for (const line of renderFirstLoads(loads)) process.stdout.write(`${line}\n`);
  } finally {
    await Promise.all(services.map((service) => service.stop()));
  }
};

if (import.meta.url === `file://${process.argv[1]}`) await main();
