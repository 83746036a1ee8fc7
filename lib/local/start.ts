/**
 * `npm start`: the whole pipeline on this machine over the sample transients, with live progress, ending
 * when every transient is completed or blocked. `--keep-running` leaves it up for the CLI and the tests.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { type FaultPlanSpec, defaultClockSkewMs, defaultFaultRates } from '../chaos/plan';
import { coerceError } from '../domain/errors';
import { assertValidRegistry } from '../domain/validation';
import { ingestTransients } from '../engine/ingest';
import { loadCatalog } from '../fixtures/load-catalog';
import { type AnyRunner, type Transient, isPythonRunner } from '../runner';
import { ensurePythonEnvironment } from '../python/environment';
import { readTransientFile, rowErrorLines } from '../fixtures/transient-files';
import { ProcessingStatus, processingStatus, summarise } from '../domain/workflow';
import type { TransientRecord } from '../engine/store';
import { renderChaosReport } from './chaos-report';
import { runUnderChaos } from './chaos-run';
import { redirectJsonLogs } from './log-sink';
import { renderTaskProgress, renderTransientTable } from './progress';
import { LocalRuntime } from './runtime';
import { type LocalWebView, startLocalWebView } from './web-view';
import { TnsStandIn, loadTnsObjects, localTnsCredentials } from './tns-stand-in';
import { type JavaRuntime, LocalServiceError, findJava } from './services';
import { colors } from '../terminal/colors';
import { SystemTaskName } from '../../runners/system-tasks';
import { writeFileWhole } from './write-whole';

/** Where `--keep-running` writes the endpoints unless told otherwise, and where the CLI looks for them. */
export const DEFAULT_STATE_FILE = '.blast-local/endpoints.json';

export interface StartOptions {
  readonly runners: readonly AnyRunner[];
  readonly fixturesDir: string;
  readonly transientsFile: string;
  readonly tickMs: number;
  readonly timeoutSeconds: number;
  readonly keepRunning: boolean;
  /** Where `--keep-running` writes the endpoints and names for the CLI. */
  readonly stateFile: string;
  readonly logFile: string;
  /** Ingest from a local TNS stand-in through the TNS data ingestion runner instead of the transients file. */
  readonly tnsLocal?: boolean;
  /** Run under the fault plan of this seed (`--chaos SEED`), then check the invariants. */
  readonly chaosSeed?: number;
  /**
   * `--json`: what is otherwise printed goes to stderr, and stdout gets one JSON document once the transients have
   * finished (or the run gave up): each transient's progress and processing status.
   */
  readonly json?: boolean;
}

/** The runner `--tns-local` enables and runs at once (then on its schedule). */
export const TNS_INGESTION_TASK = SystemTaskName.TnsDataIngestion;

/** Runner timeout under `--chaos`: a run that dies comes back after 6 × 10 s instead of 6 minutes. */
export const CHAOS_TIMEOUT_SECONDS = 10;

export const chaosPlanFor = (seed: number, stateFile: string): FaultPlanSpec => ({
  seed,
  faults: { ...defaultFaultRates },
  journal: join(dirname(stateFile), 'chaos-journal.jsonl'),
  timeoutSeconds: CHAOS_TIMEOUT_SECONDS,
  clockSkewMs: defaultClockSkewMs,
});

let display: NodeJS.WriteStream = process.stdout;
const print = (line = '') => display.write(`${line}\n`);

export const startLocal = async (options: StartOptions): Promise<number> => {
  display = options.json ? process.stderr : process.stdout;
  // Bound before the handlers' JSON logs are diverted from stdout to the log file, so the document reaches stdout.
  const writeDocument = process.stdout.write.bind(process.stdout);
  const summarised = (records: readonly TransientRecord[], finished: boolean, elapsedMs: number) => {
    if (!options.json) return;
    const transients = records.map((record) => {
      const { progress, processingStatus: status } = summarise(workflow, record.registers);
      return { name: record.transient.name, progress, processingStatus: status };
    });
    writeDocument(`${JSON.stringify({ finished, elapsedMs, transients })}\n`);
  };
  const catalog = loadCatalog(options.fixturesDir);
  catalog.warnings?.forEach((warning) => print(colors.yellow(`! ${warning}`)));
  const workflow = assertValidRegistry(catalog, options.runners);
  print(`${colors.green('✓')} registry and fixtures valid: ${workflow.order.length} tasks, ${options.runners.length} runners`);
  const { transients, errors } = options.tnsLocal ? { transients: [], errors: [] } : readTransientFile(options.transientsFile);
  for (const line of rowErrorLines(options.transientsFile, errors)) print(colors.red(line));
  if (options.tnsLocal && options.chaosSeed !== undefined) {
    print(colors.red('--chaos runs over the transients file; it cannot be combined with --tns-local'));
    return 1;
  }
  if (options.tnsLocal && !options.runners.some((runner) => runner.taskName === TNS_INGESTION_TASK)) {
    print(colors.red(`--tns-local needs the "${TNS_INGESTION_TASK}" system runner in the registry`));
    return 1;
  }
  let java: JavaRuntime;
  try {
    java = findJava();
  } catch (error) {
    if (!(error instanceof LocalServiceError)) throw error;
    print(colors.red(error.message));
    return 1;
  }
  if (options.runners.some(isPythonRunner)) {
    // Missing Python is said once, by the Python runners' stand-in; a failed install here.
    const python = await ensurePythonEnvironment({ onLine: (line) => print(colors.dim(`  ${line}`)) });
    if (!python.ready && python.cause === 'install-failed') print(colors.yellow(`! ${python.problem}; the TypeScript runners run`));
  }
  print(colors.dim(`starting DynamoDB Local (${java.version}) and the SQS emulator on loopback…`));
  const restoreStdout = redirectJsonLogs(options.logFile);
  let runtime: LocalRuntime | undefined;
  let tns: TnsStandIn | undefined;
  let web: LocalWebView | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    // The web view, then the runtime: a scheduled TNS run in flight finishes before its stand-in goes away.
    (stopping ??= (web?.stop() ?? Promise.resolve())
      .then(() => runtime?.stop())
      .then(() => tns?.stop())
      .finally(() => {
        restoreStdout();
        rmSync(options.stateFile, { force: true });
      }));
  // Ctrl-C and a process manager's SIGTERM stop the run the same way; a second one stops it at once (the
  // services' processes stop themselves when this one is gone, see services.ts).
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const code = 128 + (constants.signals[signal] ?? 15);
    if (signalled) {
      rmSync(options.stateFile, { force: true });
      process.exit(code);
    }
    signalled = true;
    print(`\n${signal}: stopping everything this run started…`);
    void stop()
      .catch((error: unknown) => print(colors.red(`stopping: ${coerceError(error).message}`)))
      .finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    const chaos = options.chaosSeed === undefined ? undefined : chaosPlanFor(options.chaosSeed, options.stateFile);
    if (chaos) mkdirSync(dirname(options.stateFile), { recursive: true });
    if (options.tnsLocal) {
      tns = await TnsStandIn.start({ throttleEvery: 7 });
      print(`TNS stand-in ${tns.url} · bot "${localTnsCredentials.botName}" · ${loadTnsObjects().length} objects made public in the last hour`);
    }
    runtime = await LocalRuntime.start({
      runners: options.runners,
      fixturesDir: options.fixturesDir,
      tickMs: options.tickMs,
      ...(tns ? { environment: tns.environment(), enable: [TNS_INGESTION_TASK] } : {}),
      ...(chaos ? { chaos, retryBaseSeconds: 1 } : {}),
      onStopWait: (functions) => print(colors.dim(`stopping: waiting for ${functions.join(', ')} to end (at most its timeout)`)),
    });
    const info = runtime.describe();
    print(`DynamoDB Local ${info.dynamodbEndpoint} · SQS emulator ${info.sqsEndpoint} · table ${info.tableName}`);
    print(`schedules: one 60 s period lasts ${options.tickMs} ms here · handler logs and metrics: ${options.logFile}`);
    web = await startLocalWebView(runtime, { logFile: options.logFile });
    print(`web view ${colors.bold(web.url)} · the grid fills in as the pipeline runs`);
    if (chaos) {
      runtime.run();
      return await startUnderChaos(runtime, chaos, transients, options);
    }
    const started = Date.now();
    let names = transients.map((transient) => transient.name);
    if (tns) {
      // The operator's "run now", before the schedules start: the runner's own first scheduled run, a period from now
      // (300 ms here), would otherwise race it for the runner's lock on a busy machine, and this one ingest nothing.
      await runtime.invokeSystemRunner(TNS_INGESTION_TASK);
      names = loadTnsObjects().map((object) => object.objname);
      const known = await runtime.engine.store.transients.getMany(names);
      const throttled = tns.requests.filter((request) => request.status === 429).length;
      print(`"${TNS_INGESTION_TASK}" ingested ${known.length} transients from the TNS stand-in (${tns.requests.length} requests, ${throttled} answered 429 and retried)\n`);
    } else {
      const ingested = await ingestTransients(runtime.engine, transients, { announce: true });
      print(`ingested ${ingested.created} transients from ${options.transientsFile}${ingested.existing ? ` (${ingested.existing} already known)` : ''}\n`);
    }
    // What was ingested waits in the ready index and the queues until the schedules and the queues' pollers start.
    runtime.run();

    const interactive = display.isTTY === true;
    let drawn = 0;
    let lastPrinted = 0;
    for (;;) {
      const records = await runtime.engine.store.transients.getMany(names);
      const finished = records.every((record) => processingStatus(workflow, record.registers) !== ProcessingStatus.Processing);
      const elapsed = Date.now() - started;
      if (interactive) {
        const lines = renderTaskProgress(workflow, records, elapsed);
        display.write(`${drawn ? `\x1b[${drawn}A` : ''}${lines.map((line) => `\x1b[2K${line}`).join('\n')}\n`);
        drawn = lines.length;
      } else if (finished || elapsed - lastPrinted >= 2_000) {
        lastPrinted = elapsed;
        print(renderTaskProgress(workflow, records, elapsed).at(-1)?.trim());
      }
      if (finished && records.length === names.length) {
        print(`\nall ${records.length} transients finished in ${(elapsed / 1000).toFixed(1)} s\n`);
        renderTransientTable(workflow, records).forEach((line) => print(line));
        summarised(records, true, elapsed);
        break;
      }
      if (elapsed > options.timeoutSeconds * 1000) {
        print(colors.red(`\ngave up after ${options.timeoutSeconds} s with transients still processing`));
        renderTransientTable(workflow, records).forEach((line) => print(line));
        summarised(records, false, elapsed);
        return 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    if (options.keepRunning) {
      mkdirSync(dirname(options.stateFile), { recursive: true });
      // Written whole or not at all: a CLI reads it the moment it exists.
      writeFileWhole(options.stateFile, `${JSON.stringify({ ...info, pid: process.pid }, null, 2)}\n`);
      // The endpoints themselves were printed above; printing the file (JSON) here would land in the log file.
      const stateOption = options.stateFile === DEFAULT_STATE_FILE ? '' : ` --state-file ${options.stateFile}`;
      print(`\nstill running (--keep-running): the CLI finds it through ${options.stateFile}, e.g. \`npm run cli --${stateOption} status ${names[0] ?? 'NAME'}\``);
      print(`web view: ${web.url}`);
      print('Ctrl-C stops it.');
      await new Promise<never>(() => undefined);
    }
    return 0;
  } finally {
    await stop();
  }
};

/** `--chaos SEED`: the same pipeline with the seed's faults and operator actions, then the invariant checks. */
const startUnderChaos = async (runtime: LocalRuntime, chaos: FaultPlanSpec, transients: readonly Transient[], options: StartOptions): Promise<number> => {
  const { workflow } = runtime.engine;
  print(
    colors.yellow(
      `chaos: seed ${chaos.seed}, runner timeouts ${CHAOS_TIMEOUT_SECONDS} s, faults injected by the handlers, operator actions and poison messages by a driver`,
    ),
  );
  let lastPrinted = -Infinity;
  const report = await runUnderChaos(runtime, {
    transients,
    poison: true,
    timeoutMs: options.timeoutSeconds * 1000,
    onProgress: (records, elapsed) => {
      if (elapsed - lastPrinted < 2_000) return;
      lastPrinted = elapsed;
      print(renderTaskProgress(workflow, records, elapsed).at(-1)?.trim());
    },
  });
  print(
    report.settled
      ? `\nall ${transients.length} transients finished and every queue drained in ${(report.elapsedMs / 1000).toFixed(1)} s\n`
      : colors.red(`\ngave up after ${options.timeoutSeconds} s with work still pending\n`),
  );
  renderTransientTable(workflow, report.records).forEach((line) => print(line));
  const deleted = transients.length - report.records.length;
  if (deleted > 0) print(colors.dim(`  (${deleted} deleted mid-run by the chaos driver)`));
  print();
  renderChaosReport(report).forEach((line) => print(line));
  return report.settled && report.violations.length === 0 ? 0 : 1;
};
