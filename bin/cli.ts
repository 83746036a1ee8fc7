#!/usr/bin/env -S npx tsx
/**
 * The project's command-line tool: `start` runs the whole pipeline locally, `validate` and `generate` look
 * after the registry and fixtures, and the operator's commands (ingest, status, list, retrigger, reprocess,
 * dlq, graph) act on the local runtime or a deployment. The logic lives in lib/cli/.
 */
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
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
import { GENERATED_FIXTURES_MODULE, renderFixtureConstants } from '../lib/fixtures/codegen';
import { TaskRunnerError, coerceError } from '../lib/domain/errors';
import { type GraphFormat, graphFormats, renderGraph } from '../lib/domain/graph';
import { assertValidRegistry, validateRegistry } from '../lib/domain/validation';
import { type ProcessingStatus, processingStatuses } from '../lib/domain/workflow';
import { DEFAULT_STACK } from '../lib/stacks/outputs';
import { isPythonRunner, isTransientRunner } from '../lib/runner';
import { GENERATED_PYTHON_MODULE, readPythonRunners, renderPythonDeclarations, stalePythonSources } from '../lib/python/declarations';
import { pythonSourceHashes } from '../lib/generated/python-runners';
import { pythonRunnerFrom } from '../runners/python-runner';
import { loadCatalog } from '../lib/fixtures/load-catalog';
import { DEFAULT_STATE_FILE, startLocal } from '../lib/local/start';
import { readTransientFile } from '../lib/fixtures/transient-files';
import { OPENAPI_DOC, renderOpenApi } from '../lib/web/openapi';

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

const program = new Command()
  .name('blast-tasks')
  .description("Blast's task runners on AWS Lambda: run them locally, check them, operate them")
  .option('--fixtures <dir>', 'directory of setup_status.yaml and setup_tasks.yaml', 'fixtures')
  .option('--state-file <file>', "the local runtime's endpoints file (written by start --keep-running)", DEFAULT_STATE_FILE)
  .option('--stack <name>', `act on this deployed stack (default ${DEFAULT_STACK} when no local runtime is up)`)
  .option('--region <region>', "the stack's AWS region (default: the AWS SDK's own configuration)")
  .exitOverride()
  // One line per error, as a shell user expects; `--help` has the rest.
  .configureOutput({ outputError: (text, write) => write(`✗ ${text.trim().replace(/^error: /, '')} (see --help)\n`) });

interface GlobalOptions {
  readonly fixtures: string;
  readonly stateFile: string;
  readonly stack?: string;
  readonly region?: string;
}
const globals = () => program.opts<GlobalOptions>();

const print = (lines: string | readonly string[]) => {
  for (const line of typeof lines === 'string' ? [lines] : lines) process.stdout.write(`${line}\n`);
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
    const page = readIfExists(WORKFLOW_DOC);
    if (issues.length === 0 && page !== undefined && withCurrentDiagram(page, workflow) !== page) {
      issues.push(`the workflow diagram in ${WORKFLOW_DOC} is not the registry's: run \`${generate}\``);
    }
    catalog.warnings?.forEach((warning) => console.error(`! ${warning}`));
    if (issues.length > 0) {
      issues.forEach((issue) => console.error(`✗ ${issue}`));
      process.exitCode = 1;
      return;
    }
    const transient = registry.filter(isTransientRunner).length;
    console.log(
      `✓ valid: ${transient} transient and ${registry.length - transient} system runners, ${workflow.order.length} tasks, ${catalog.statuses.size} statuses`,
    );
  });

program
  .command('generate')
  .description(
    `write ${GENERATED_FIXTURES_MODULE} (the fixtures' statuses and tasks as constants), ${GENERATED_PYTHON_MODULE} (what the Python runners declare), the workflow diagram in ${WORKFLOW_DOC} and ${OPENAPI_DOC}`,
  )
  .action(() => {
    const catalog = loadCatalog(globals().fixtures);
    writeFileSync(GENERATED_FIXTURES_MODULE, renderFixtureConstants(catalog));
    console.log(`wrote ${GENERATED_FIXTURES_MODULE}`);
    const python = readPythonRunners();
    writeFileSync(GENERATED_PYTHON_MODULE, renderPythonDeclarations(python));
    console.log(`wrote ${GENERATED_PYTHON_MODULE} (${python.declarations.length} Python runner classes in ${Object.keys(python.hashes).length} files)`);
    // The registry as it reads the declarations just written (it was loaded with the previous ones).
    const current = registry.map((runner) => (isPythonRunner(runner) ? pythonRunnerFrom(python.declarations, runner.python.file, runner.python.className) : runner));
    const page = readFileSync(WORKFLOW_DOC, 'utf8');
    const updated = withCurrentDiagram(page, assertValidRegistry(catalog, current));
    if (updated === undefined) throw new CliError(`${WORKFLOW_DOC} has no workflow-graph block to update`);
    if (updated !== page) writeFileSync(WORKFLOW_DOC, updated);
    console.log(`${updated === page ? 'kept' : 'wrote'} the workflow diagram in ${WORKFLOW_DOC}`);
    writeFileSync(OPENAPI_DOC, renderOpenApi());
    console.log(`wrote ${OPENAPI_DOC} (the web view's API, from its zod schemas)`);
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
    const { stateFile, fixtures } = globals();
    process.exitCode = await startLocal({
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
      print([
        target.description,
        `  table       ${target.tableName}`,
        `  queues      ${Object.keys(target.queueUrls).length} runners, each with a dead-letter queue`,
        ...(target.dashboardUrl ? [`  dashboard   ${target.dashboardUrl}`] : []),
      ]);
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
  .action((name: string) => withOperator(async ({ engine, target }) => print(await showStatus(engine, name, target.description))));

program
  .command('list')
  .description('transients with their progress, oldest first, a page at a time (from the processing-status index, no scan)')
  .addOption(new Option('--status <status>', 'only transients with this processing status').choices(processingStatuses))
  .option('--limit <n>', 'transients per page', positiveInteger, 50)
  .option('--after <key>', 'the page after this key (the command under each page says which)')
  .action((options: { status?: ProcessingStatus; limit: number; after?: string }) =>
    withOperator(async ({ engine }) => {
      const next = `${cliPrefix()} list${options.status ? ` --status ${options.status}` : ''}${options.limit === 50 ? '' : ` --limit ${options.limit}`}`;
      print(
        await showList(
          engine,
          { statuses: options.status ? [options.status] : [], limit: options.limit, ...(options.after ? { after: options.after } : {}) },
          next,
        ),
      );
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
        print(await resetCommand(engine, operation, name, target));
        if (options.wait) print(['', ...(await waitUntilFinished(engine, name, options.timeout, process.stderr))]);
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
      print(await showDeadLetters(engine, sqs, runner, target.deadLetterQueueUrls[runner.taskName], cliPrefix()));
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
      print(report.lines);
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
    if (transient === undefined) {
      process.stdout.write(renderGraph(options.format, assertValidRegistry(loadCatalog(globals().fixtures), registry)));
      return;
    }
    await withOperator(async ({ engine, target }) => {
      const record = await engine.store.transients.get(transient);
      if (!record) throw unknownTransient(transient, target.description);
      process.stdout.write(renderGraph(options.format, engine.workflow, record.registers));
    });
  });

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
