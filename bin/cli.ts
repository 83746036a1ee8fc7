#!/usr/bin/env -S npx tsx
/**
 * The project's command-line tool: `start` runs the whole pipeline locally, `validate` and `generate` look
 * after the registry and fixtures, and the operator's commands (ingest, status, list, retrigger, reprocess,
 * dlq, graph) act on the local runtime or a deployment. The logic lives in lib/cli/.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { registry } from '../runners/registry';
import { SystemTaskName } from '../runners/system-tasks';
import { ingestFile } from '../lib/cli/ingest';
import { resolveRunner, redrive, showDeadLetters } from '../lib/cli/dead-letters';
import { CliError } from '../lib/cli/errors';
import { WORKFLOW_DOC, withCurrentDiagram } from '../lib/cli/graph';
import { showList, showStatus, unknownTransient } from '../lib/cli/inspect';
import { type Operator, connect, explainFailure } from '../lib/cli/operator';
import { resetCommand, waitUntilFinished } from '../lib/cli/reset';
import { resolveTarget } from '../lib/cli/target';
import { backfillById, describeBackfill, driveBackfill, progressLine } from '../lib/cli/backfill';
import { cancelBackfill, createBackfill, listBackfills } from '../lib/engine/backfill';
import { type Selection, selectionSchema } from '../lib/domain/backfill';
import { GENERATED_FIXTURES_MODULE, renderFixtureConstants } from '../lib/fixtures/codegen';
import { TaskRunnerError, coerceError } from '../lib/domain/errors';
import { type GraphFormat, graphFormats, renderGraph } from '../lib/domain/graph';
import { assertValidRegistry, validateRegistry } from '../lib/domain/validation';
import { type ProcessingStatus, processingStatuses, statusOf, summarise } from '../lib/domain/workflow';
import { showHistory } from '../lib/cli/history';
import { DEFAULT_STACK } from '../lib/stacks/outputs';
import { isPythonRunner, isTransientRunner } from '../lib/runner';
import { GENERATED_PYTHON_MODULE, readPythonRunners, renderPythonDeclarations, stalePythonSources } from '../lib/python/declarations';
import { pythonSourceHashes } from '../lib/generated/python-runners';
import { pythonRunnerFrom } from '../runners/python-runner';
import { runnerSources } from '../lib/generated/runner-sources';
import { GENERATED_RUNNER_SOURCES_MODULE, readRunnerSources, renderRunnerSources, staleRunnerSources } from '../lib/cli/versions';
import { loadCatalog } from '../lib/fixtures/load-catalog';
import { DEFAULT_STATE_FILE, startLocal } from '../lib/local/start';
import { readTransientFile } from '../lib/fixtures/transient-files';
import { OPENAPI_DOC, renderOpenApi } from '../lib/web/openapi';
import { writeFileWhole } from '../lib/local/write-whole';

/** How the hints in the output spell a command (with the target options given), so they can be pasted back. */
const cliPrefix = () => {
  const given = (['stateFile', 'stack', 'region'] as const).filter((key) => program.getOptionValueSource(key) === 'cli');
  const flags = { stateFile: '--state-file', stack: '--stack', region: '--region' };
  return ['npm run cli --', ...given.map((key) => `${flags[key]} ${JSON.stringify(globals()[key])}`)].join(' ');
};

const positiveInteger = (text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return value;
};

const wholeNumber = (text: string) => {
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) throw new InvalidArgumentError('expected a whole number');
  return value;
};

const shareOf = (text: string) => {
  const value = Number(text);
  if (!(value > 0 && value <= 1)) throw new InvalidArgumentError('expected a fraction above 0 and at most 1, e.g. 0.5');
  return value;
};

interface BackfillCliOptions {
  readonly all?: boolean;
  readonly names?: string[];
  readonly from?: string;
  readonly to?: string;
  readonly created: boolean;
  readonly status?: ProcessingStatus;
  readonly taskStatus?: string;
  readonly stale?: boolean;
  readonly share: number;
  readonly wait: boolean;
}

/** The one selection the options name (exactly one kind of them). */
const selectionOf = (task: string, options: BackfillCliOptions): Selection => {
  const chosen: Selection[] = [
    ...(options.all ? [{ kind: 'all' as const }] : []),
    ...(options.names ? [{ kind: 'names' as const, names: [...new Set(options.names)] }] : []),
    ...(options.from !== undefined || options.to !== undefined
      ? [{ kind: 'time' as const, field: options.created ? ('created' as const) : ('public' as const), ...(options.from ? { from: isoTime(options.from) } : {}), ...(options.to ? { to: isoTime(options.to) } : {}) }]
      : []),
    ...(options.status ? [{ kind: 'processing-status' as const, status: options.status }] : []),
    ...(options.taskStatus ? [{ kind: 'task-status' as const, task, status: options.taskStatus }] : []),
    ...(options.stale ? [{ kind: 'stale' as const }] : []),
  ];
  if (chosen.length !== 1) throw new CliError('choose one selection: --all, --names, --from/--to, --status, --task-status or --stale');
  return selectionSchema.parse(chosen[0]);
};

const isoTime = (text: string) => {
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new CliError(`"${text}" is not a time (e.g. 2024-01-31 or 2024-01-31T12:00:00Z)`);
  return new Date(at).toISOString();
};

const program = new Command()
  .name('blast-tasks')
  .description("Blast's task runners on AWS Lambda: run them locally, check them, operate them")
  .option('--fixtures <dir>', 'directory of setup_status.yaml and setup_tasks.yaml', 'fixtures')
  .option('--state-file <file>', "the local runtime's endpoints file (written by start --keep-running)", DEFAULT_STATE_FILE)
  .option('--stack <name>', `act on this deployed stack (default ${DEFAULT_STACK} when no local runtime is up)`)
  .option('--region <region>', "the stack's AWS region (default: the AWS SDK's own configuration)")
  .option('--json', 'print one JSON document on stdout instead of text, for scripts (errors still go to stderr, with the exit code)', false)
  .exitOverride()
  // One line per error, as a shell user expects; `--help` has the rest.
  .configureOutput({ outputError: (text, write) => write(`✗ ${text.trim().replace(/^error: /, '')} (see --help)\n`) });

interface GlobalOptions {
  readonly fixtures: string;
  readonly stateFile: string;
  readonly stack?: string;
  readonly region?: string;
  readonly json: boolean;
}
const globals = () => program.opts<GlobalOptions>();

const print = (lines: string | readonly string[]) => {
  for (const line of typeof lines === 'string' ? [lines] : lines) process.stdout.write(`${line}\n`);
};

/** A command's result: its lines for a person, or with `--json` its data as one JSON document (and nothing else on stdout). */
const emit = (lines: string | readonly string[], data: unknown) => {
  if (globals().json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else print(lines);
};

/** Runs `work` against the target the global options choose, turning failures to reach it into one line. */
const withOperator = async (work: (operator: Operator) => Promise<number | void>) => {
  const options = globals();
  const target = await resolveTarget({
    stateFile: options.stateFile,
    stateFileGiven: program.getOptionValueSource('stateFile') === 'cli',
    ...(options.stack === undefined ? {} : { stack: options.stack }),
    ...(options.region === undefined ? {} : { region: options.region }),
  });
  const operator = connect(target, { runners: registry, fixturesDir: options.fixtures });
  try {
    process.exitCode = (await work(operator)) ?? 0;
  } catch (error) {
    throw explainFailure(error, target);
  } finally {
    operator.close();
  }
};

const readIfExists = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

program
  .command('validate')
  .description('check the registry against the fixtures (unknown names, failed statuses, cycles, schedules, unreachable tasks)')
  .action(() => {
    const catalog = loadCatalog(globals().fixtures);
    const { issues, workflow } = validateRegistry(catalog, registry);
    // The command that fixes it, exactly as it must be typed (with the fixtures folder, when not the default).
    const generate = `npm run generate${program.getOptionValueSource('fixtures') === 'cli' ? ` -- --fixtures ${JSON.stringify(globals().fixtures)}` : ''}`;
    if (readIfExists(GENERATED_FIXTURES_MODULE) !== renderFixtureConstants(catalog)) {
      issues.push(`${GENERATED_FIXTURES_MODULE} does not match ${catalog.statusFile} and ${catalog.taskFile}: run \`${generate}\``);
    }
    issues.push(...stalePythonSources(pythonSourceHashes).map((stale) => `${stale}: run \`${generate}\``));
    issues.push(...staleRunnerSources(runnerSources).map((stale) => `${stale}: run \`${generate}\``));
    const page = readIfExists(WORKFLOW_DOC);
    if (issues.length === 0 && page !== undefined && withCurrentDiagram(page, workflow) !== page) {
      issues.push(`the workflow diagram in ${WORKFLOW_DOC} is not the registry's: run \`${generate}\``);
    }
    catalog.warnings?.forEach((warning) => console.error(`! ${warning}`));
    const transient = registry.filter(isTransientRunner).length;
    const data = { valid: issues.length === 0, issues, warnings: catalog.warnings ?? [], transientRunners: transient, systemRunners: registry.length - transient, tasks: workflow.order.length, statuses: catalog.statuses.size };
    if (issues.length > 0) {
      if (globals().json) emit([], data);
      else issues.forEach((issue) => console.error(`✗ ${issue}`));
      process.exitCode = 1;
      return;
    }
    emit(`✓ valid: ${transient} transient and ${registry.length - transient} system runners, ${workflow.order.length} tasks, ${catalog.statuses.size} statuses`, data);
  });

program
  .command('generate')
  .description(
    `write ${GENERATED_FIXTURES_MODULE} (the fixtures' statuses and tasks as constants), ${GENERATED_PYTHON_MODULE} (what the Python runners declare), the workflow diagram in ${WORKFLOW_DOC} and ${OPENAPI_DOC}`,
  )
  .action(async () => {
    const said: string[] = [];
    const catalog = loadCatalog(globals().fixtures);
    writeFileWhole(GENERATED_FIXTURES_MODULE, renderFixtureConstants(catalog));
    said.push(`wrote ${GENERATED_FIXTURES_MODULE}`);
    const python = readPythonRunners();
    writeFileWhole(GENERATED_PYTHON_MODULE, renderPythonDeclarations(python));
    said.push(`wrote ${GENERATED_PYTHON_MODULE} (${python.declarations.length} Python runner classes in ${Object.keys(python.hashes).length} files)`);
    const sources = await readRunnerSources(registry);
    writeFileWhole(GENERATED_RUNNER_SOURCES_MODULE, renderRunnerSources(sources));
    said.push(`wrote ${GENERATED_RUNNER_SOURCES_MODULE} (${Object.keys(sources).length} TypeScript runner files)`);
    // The registry as it reads the declarations just written (it was loaded with the previous ones).
    const current = registry.map((runner) => (isPythonRunner(runner) ? pythonRunnerFrom(python.declarations, runner.python.file, runner.python.className) : runner));
    const page = readFileSync(WORKFLOW_DOC, 'utf8');
    const updated = withCurrentDiagram(page, assertValidRegistry(catalog, current));
    if (updated === undefined) throw new CliError(`${WORKFLOW_DOC} has no workflow-graph block to update`);
    if (updated !== page) writeFileWhole(WORKFLOW_DOC, updated);
    said.push(`${updated === page ? 'kept' : 'wrote'} the workflow diagram in ${WORKFLOW_DOC}`);
    writeFileWhole(OPENAPI_DOC, renderOpenApi());
    said.push(`wrote ${OPENAPI_DOC} (the web view's API, from its zod schemas)`);
    emit(said, { wrote: [GENERATED_FIXTURES_MODULE, GENERATED_PYTHON_MODULE, GENERATED_RUNNER_SOURCES_MODULE, ...(updated === page ? [] : [WORKFLOW_DOC]), OPENAPI_DOC], said });
  });

program
  .command('start')
  .description('run the whole pipeline here on DynamoDB Local and the SQS emulator over the sample transients')
  .option('--transients <file>', 'transients to ingest (YAML, JSON or CSV)', 'fixtures/sample_transients.yaml')
  .option('--tick <ms>', 'local length of a 60 s schedule period', positiveInteger, 1000)
  .option('--timeout <seconds>', 'give up if not finished by then', positiveInteger, 600)
  .option('--keep-running', 'leave the local stack up afterwards for the CLI and tests (see --state-file)', false)
  .option('--tns-local', `ingest from a local TNS stand-in through "${SystemTaskName.TnsDataIngestion}" instead of the transients file`, false)
  .option('--chaos <seed>', 'inject the faults this seed decides, then check the invariants (see docs/reliability.md)', wholeNumber)
  .action(async (options: { transients: string; tick: number; timeout: number; keepRunning: boolean; tnsLocal: boolean; chaos?: number }) => {
    const { stateFile, fixtures, json } = globals();
    process.exitCode = await startLocal({
      json,
      runners: registry,
      fixturesDir: fixtures,
      transientsFile: options.transients,
      tickMs: options.tick,
      timeoutSeconds: options.timeout,
      keepRunning: options.keepRunning,
      tnsLocal: options.tnsLocal,
      stateFile,
      logFile: join(dirname(stateFile), 'handlers.log'),
      ...(options.chaos === undefined ? {} : { chaosSeed: options.chaos }),
    });
  });

program
  .command('target')
  .description('show what the commands act on: the local runtime or the stack, its table and queues')
  .action(() =>
    withOperator(async ({ target }) => {
      emit(
        [
          target.description,
          `  table       ${target.tableName}`,
          `  queues      ${Object.keys(target.queueUrls).length} runners, each with a dead-letter queue`,
          ...(target.dashboardUrl ? [`  dashboard   ${target.dashboardUrl}`] : []),
        ],
        {
          description: target.description,
          local: target.local,
          tableName: target.tableName,
          queueUrls: target.queueUrls,
          deadLetterQueueUrls: target.deadLetterQueueUrls,
          ...(target.dashboardUrl ? { dashboardUrl: target.dashboardUrl } : {}),
        },
      );
    }),
  );

program
  .command('ingest')
  .description('add transients from a YAML, JSON or CSV file (name, ra, dec, public timestamp, optional redshift and class)')
  .argument('<file>', 'the transients file')
  .option('--no-announce', 'leave the first tasks to the dispatcher (oldest first, on its next run) instead of sending them now')
  .action((file: string, options: { announce: boolean }) => {
    // What is wrong with the file is said before, and whatever the state of, the target.
    const rows = readTransientFile(file);
    return withOperator(async ({ engine }) => {
      const result = await ingestFile(engine, file, rows, { announce: options.announce, stream: process.stderr });
      if (globals().json) {
        emit([], { file, ...result, announced: options.announce });
        return result.rejected.length > 0 ? 1 : 0;
      }
      const known = result.existing ? `; ${result.existing} already known, left as they were` : '';
      const rejected = result.rejected.length ? `; ${result.rejected.length} of ${result.rows} rows rejected (see above)` : '';
      const sent = result.created === 0 ? '' : options.announce ? '; their first tasks are on their way' : '; the dispatcher sends their first tasks on its next run';
      print(`ingested ${result.created} new transient${result.created === 1 ? '' : 's'} from ${file}${known}${sent}${rejected}`);
      return result.rejected.length > 0 ? 1 : 0;
    });
  });

program
  .command('status')
  .description("one transient's registers in workflow order, its progress and processing status, and what blocks it")
  .argument('<name>', 'the transient')
  .action((name: string) =>
    withOperator(async ({ engine, target }) => {
      const { lines, data } = await showStatus(engine, name, target.description);
      emit(lines, data);
    }),
  );

program
  .command('history')
  .description("every attempt of a transient's tasks kept in the run history: when, how long, status, version, inputs, where it logged")
  .argument('<name>', 'the transient')
  .argument('[task]', 'only this task')
  .option('--run <id>', "one run's record and the output it saved (a superseded run's too)")
  .action((name: string, task: string | undefined, options: { run?: string }) =>
    withOperator(async ({ engine, target }) => {
      const { lines, data } = await showHistory(engine, { name, ...(task === undefined ? {} : { task }), ...(options.run === undefined ? {} : { run: options.run }) }, target);
      emit(lines, data);
    }),
  );

program
  .command('list')
  .description('transients with their progress, oldest first, a page at a time (from the processing-status index, no scan)')
  .addOption(new Option('--status <status>', 'only transients with this processing status').choices(processingStatuses))
  .option('--limit <n>', 'transients per page', positiveInteger, 50)
  .option('--after <key>', 'the page after this key (the command under each page says which)')
  .option('--stale <task>', 'only transients whose result of this task is stale (its version changed, or an input it used was superseded), with why')
  .action((options: { status?: ProcessingStatus; limit: number; after?: string; stale?: string }) =>
    withOperator(async ({ engine }) => {
      const stale = options.stale === undefined ? '' : ` --stale ${JSON.stringify(options.stale)}`;
      const next = `${cliPrefix()} list${options.status ? ` --status ${options.status}` : ''}${stale}${options.limit === 50 ? '' : ` --limit ${options.limit}`}`;
      const { lines, data } = await showList(
        engine,
        {
          statuses: options.status ? [options.status] : [],
          limit: options.limit,
          ...(options.after ? { after: options.after } : {}),
          ...(options.stale === undefined ? {} : { stale: options.stale }),
        },
        next,
      );
      emit(lines, data);
    }),
  );

for (const operation of ['retrigger', 'reprocess'] as const) {
  program
    .command(operation)
    .description(
      operation === 'retrigger'
        ? "Blast's retrigger: resume an incomplete workflow, retrying failed tasks and runs that died (runs in flight finish)"
        : "Blast's reprocess: reset every task to \"not processed\" and run the workflow again (results of runs in flight are discarded)",
    )
    .argument('<name>', 'the transient')
    .option('--wait', 'wait until the transient is completed or blocked, then show its status', false)
    .option('--timeout <seconds>', 'with --wait, give up after this long', positiveInteger, 300)
    .action((name: string, options: { wait: boolean; timeout: number }) =>
      withOperator(async ({ engine, target }) => {
        const line = await resetCommand(engine, operation, name, target);
        const waited = options.wait ? await waitUntilFinished(engine, name, options.timeout, process.stderr) : undefined;
        if (globals().json) {
          const record = await engine.store.transients.get(name);
          const registers = record?.registers ?? {};
          emit([], { operation, name, said: line, ...(record ? { processingStatus: summarise(engine.workflow, registers).processingStatus, progress: summarise(engine.workflow, registers).progress } : {}) });
          return;
        }
        print(line);
        if (waited) print(['', ...waited]);
      }),
    );
}

const dlq = program.command('dlq').description("a runner's dead letters: messages that used up their deliveries");

dlq
  .command('list')
  .description('the dead letters of a runner: transient, when, receive count, the status they left, reason and last error')
  .argument('<runner>', 'the runner: its task ("Host match"), class (HostMatch) or queue name (host-match)')
  .action((name: string) =>
    withOperator(async ({ engine, sqs, target }) => {
      const runner = resolveRunner(engine, name);
      const { lines, data } = await showDeadLetters(engine, sqs, runner, target.deadLetterQueueUrls[runner.taskName], cliPrefix());
      emit(lines, data);
    }),
  );

dlq
  .command('redrive')
  .description("send a runner's dead letters back to its queue for another try (each record is removed once sent)")
  .argument('<runner>', 'the runner: its task ("Host match"), class (HostMatch) or queue name (host-match)')
  .argument('[transients...]', 'only these transients (default: every dead letter of the runner)')
  .action((name: string, transients: string[]) =>
    withOperator(async ({ engine, target }) => {
      const report = await redrive(engine, resolveRunner(engine, name), transients, target);
      report.problems.forEach((line) => console.error(line));
      emit(report.lines, report.data);
      return report.problems.length > 0 ? 1 : 0;
    }),
  );

program
  .command('graph')
  .description('the workflow diagram generated from the registry, optionally coloured by one transient\'s statuses')
  .addOption(new Option('--format <format>', 'Mermaid (renders on GitHub) or Graphviz DOT').choices(graphFormats).default('mermaid'))
  .option('--transient <name>', "colour each task by this transient's status")
  .action(async (options: { format: GraphFormat; transient?: string }) => {
    const { transient } = options;
    const graph = (text: string, statuses?: Record<string, string>) => {
      if (globals().json) emit([], { format: options.format, graph: text, ...(transient === undefined ? {} : { transient, statuses }) });
      else process.stdout.write(text);
    };
    if (transient === undefined) {
      graph(renderGraph(options.format, assertValidRegistry(loadCatalog(globals().fixtures), registry)));
      return;
    }
    await withOperator(async ({ engine, target }) => {
      const record = await engine.store.transients.get(transient);
      if (!record) throw unknownTransient(transient, target.description);
      graph(renderGraph(options.format, engine.workflow, record.registers), Object.fromEntries(engine.workflow.order.map((task) => [task, statusOf(record.registers, task)])));
    });
  });

const backfill = program
  .command('backfill')
  .description('reset TASK and every task after it over a selection of transients and run them again, behind fresh work (see docs/backfills.md)')
  .argument('[task]', 'the task to run again (and everything after it)')
  .option('--all', 'every transient')
  .option('--names <names...>', 'these transients')
  .option('--from <time>', 'transients published (with --created: created here) at or after this ISO time')
  .option('--to <time>', 'transients published (with --created: created here) before this ISO time')
  .option('--created', 'with --from/--to: the time the transient was created here, not its public timestamp', false)
  .addOption(new Option('--status <status>', 'transients with this processing status').choices(processingStatuses))
  .option('--task-status <status>', "transients whose register of TASK has this status (e.g. \"failed\")")
  .option('--stale', 'transients whose result of TASK is stale (its version changed, or an input it used did)')
  .option('--share <fraction>', "the share of each affected runner's concurrency the backfill may take", shareOf, 0.5)
  .option('--no-wait', 'record the backfill and return its id; `backfill resume ID` runs it')
  .action((task: string | undefined, options: BackfillCliOptions) => {
    if (task === undefined) throw new CliError('name the task to backfill, e.g. `backfill "Host match" --all` (or see `backfill --help`)');
    const selection = selectionOf(task, options);
    return withOperator(async ({ engine }) => {
      const created = await createBackfill(engine, { task, selection, share: options.share });
      print(`backfill ${created.id} recorded (${created.state.total} transients); resume it with: ${cliPrefix()} backfill resume ${created.id}`);
      if (options.wait) print(await driveBackfill(engine, created, process.stderr));
    });
  });

backfill
  .command('resume')
  .description('run a backfill on from where it stopped (after a crash or --no-wait); nothing reset already is reset again')
  .argument('<id>', 'the backfill')
  .action((id: string) => withOperator(async ({ engine }) => print(await driveBackfill(engine, await backfillById(engine, id), process.stderr))));

backfill
  .command('cancel')
  .description('stop a backfill: nothing more is reset (transients reset already run to their end)')
  .argument('<id>', 'the backfill')
  .action((id: string) =>
    withOperator(async ({ engine }) => {
      await backfillById(engine, id);
      print(describeBackfill(await cancelBackfill(engine, id), engine.clock()));
    }),
  );

backfill
  .command('status')
  .description("a backfill's selection, pace, progress (done / waiting / failed, ETA) and, once ended, its summary")
  .argument('<id>', 'the backfill')
  .action((id: string) => withOperator(async ({ engine }) => print(describeBackfill(await backfillById(engine, id), engine.clock()))));

backfill
  .command('list')
  .description('every backfill with its progress')
  .action(() =>
    withOperator(async ({ engine }) => {
      const all = await listBackfills(engine);
      print(all.length === 0 ? 'no backfills' : all.map((each) => progressLine(each, engine.clock())));
    }),
  );

/** The program, so that a test can parse the commands the docs show; it runs only when this file is the command. */
export { program };

const isTheCommand = () => {
  try {
    return realpathSync(process.argv[1] ?? '') === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
};

if (isTheCommand()) {
  // Local tooling runs on Node 20 by design (the functions run on Lambda's Node 22); the SDK's notice about
  // its future Node 22 requirement would only clutter every command's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  // `... | head` closes the pipe early; that ends the command quietly, as shell tools do.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });

  program.parseAsync().catch((thrown: unknown) => {
    if (thrown instanceof CommanderError) {
      // Commander has printed its one line already; usage errors exit 2, as shells' own tools do.
      process.exitCode = thrown.exitCode === 0 ? 0 : 2;
      return;
    }
    const error = coerceError(thrown);
    const operational = error instanceof TaskRunnerError || '$metadata' in error;
    console.error(operational ? `✗ ${error instanceof TaskRunnerError ? '' : `${error.name}: `}${error.message}` : `✗ ${error.stack ?? error.message}`);
    process.exitCode = 1;
  });
}
