/**
 * `npm start`: the whole pipeline on this machine over the sample transients, with live progress, ending
 * when every transient is completed or blocked. `--keep-running` leaves it up for the CLI and the tests.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { assertValidRegistry } from '../domain/validation';
import { ingestTransients } from '../engine/ingest';
import { loadCatalog } from '../fixtures';
import type { AnyRunner } from '../runner';
import { readTransientFile } from '../transient-files';
import { ProcessingStatus, processingStatus } from '../domain/workflow';
import { redirectJsonLogs } from './log-sink';
import { colors, renderTaskProgress, renderTransientTable } from './progress';
import { LocalRuntime } from './runtime';
import { javaVersion } from './services';

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
}

const print = (line = '') => process.stdout.write(`${line}\n`);

export const startLocal = async (options: StartOptions): Promise<number> => {
  const workflow = assertValidRegistry(loadCatalog(options.fixturesDir), options.runners);
  print(`${colors.green('✓')} registry and fixtures valid: ${workflow.order.length} tasks, ${options.runners.length} runners`);
  const { transients, errors } = readTransientFile(options.transientsFile);
  for (const error of errors) print(colors.red(`${options.transientsFile}: row ${error.row}${error.line ? ` (line ${error.line})` : ''}: ${error.message}`));
  const java = javaVersion();
  if (!java) {
    print(colors.red('DynamoDB Local needs Java 17 or later, and `java` is not on the PATH (Debian: apt-get install -y openjdk-17-jre-headless).'));
    return 1;
  }
  print(colors.dim(`starting DynamoDB Local (${java}) and the SQS emulator on loopback…`));
  const restoreStdout = redirectJsonLogs(options.logFile);
  let runtime: LocalRuntime | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (runtime?.stop() ?? Promise.resolve()).finally(() => {
      restoreStdout();
      rmSync(options.stateFile, { force: true });
    }));
  const onSignal = (signal: NodeJS.Signals) => {
    print(`\n${signal}: stopping everything this run started…`);
    void stop().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    runtime = await LocalRuntime.start({ runners: options.runners, fixturesDir: options.fixturesDir, tickMs: options.tickMs });
    const info = runtime.describe();
    print(`DynamoDB Local ${info.dynamodbEndpoint} · SQS emulator ${info.sqsEndpoint} · table ${info.tableName}`);
    print(`schedules: one 60 s period lasts ${options.tickMs} ms here · handler logs and metrics: ${options.logFile}`);
    runtime.run();
    const started = Date.now();
    const ingested = await ingestTransients(runtime.engine, transients, { announce: true });
    print(`ingested ${ingested.created} transients from ${options.transientsFile}${ingested.existing ? ` (${ingested.existing} already known)` : ''}\n`);

    const names = transients.map((transient) => transient.name);
    const interactive = process.stdout.isTTY === true;
    let drawn = 0;
    let lastPrinted = 0;
    for (;;) {
      const records = await runtime.engine.store.getMany(names);
      const finished = records.every((record) => processingStatus(workflow, record.registers) !== ProcessingStatus.Processing);
      const elapsed = Date.now() - started;
      if (interactive) {
        const lines = renderTaskProgress(workflow, records, elapsed);
        process.stdout.write(`${drawn ? `\x1b[${drawn}A` : ''}${lines.map((line) => `\x1b[2K${line}`).join('\n')}\n`);
        drawn = lines.length;
      } else if (finished || elapsed - lastPrinted >= 2_000) {
        lastPrinted = elapsed;
        print(renderTaskProgress(workflow, records, elapsed).at(-1)?.trim());
      }
      if (finished && records.length === names.length) {
        print(`\nall ${records.length} transients finished in ${(elapsed / 1000).toFixed(1)} s\n`);
        renderTransientTable(workflow, records).forEach((line) => print(line));
        break;
      }
      if (elapsed > options.timeoutSeconds * 1000) {
        print(colors.red(`\ngave up after ${options.timeoutSeconds} s with transients still processing`));
        renderTransientTable(workflow, records).forEach((line) => print(line));
        return 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    if (options.keepRunning) {
      mkdirSync(dirname(options.stateFile), { recursive: true });
      writeFileSync(options.stateFile, `${JSON.stringify({ ...info, pid: process.pid }, null, 2)}\n`);
      // The endpoints themselves were printed above; printing the file (JSON) here would land in the log file.
      const stateOption = options.stateFile === DEFAULT_STATE_FILE ? '' : ` --state-file ${options.stateFile}`;
      print(`\nstill running (--keep-running): the CLI finds it through ${options.stateFile}, e.g. \`npm run cli --${stateOption} status ${names[0] ?? 'NAME'}\``);
      print('Ctrl-C stops it.');
      await new Promise<never>(() => undefined);
    }
    return 0;
  } finally {
    await stop();
  }
};
