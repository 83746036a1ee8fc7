#!/usr/bin/env -S npx tsx
/**
 * The project's command-line tool: `start` runs the whole pipeline locally, `validate` checks the registry
 * and fixtures, `generate` writes the TypeScript constants of the fixtures.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { registry } from '../functions/registry';
import { GENERATED_FIXTURES_MODULE, renderFixtureConstants } from '../lib/codegen';
import { TaskRunnerError, coerceError } from '../lib/domain/errors';
import { validateRegistry } from '../lib/domain/validation';
import { isTransientRunner } from '../lib/runner';
import { loadCatalog } from '../lib/fixtures';
import { startLocal } from '../lib/local/start';

// Local tooling runs on Node 20 by design (the functions run on Lambda's Node 22); the SDK's notice about
// its future Node 22 requirement would only clutter every command's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const positiveInteger = (text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return value;
};

const program = new Command()
  .name('blast-tasks')
  .description("Blast's task runners on AWS Lambda: run them locally, check them, operate them")
  .option('--fixtures <dir>', 'directory of setup_status.yaml and setup_tasks.yaml', 'fixtures')
  .showHelpAfterError();

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
    const catalog = loadCatalog(program.opts().fixtures);
    const { issues, workflow } = validateRegistry(catalog, registry);
    if (readIfExists(GENERATED_FIXTURES_MODULE) !== renderFixtureConstants(catalog)) {
      issues.push(`${GENERATED_FIXTURES_MODULE} does not match ${catalog.statusFile} and ${catalog.taskFile}: run \`npm run generate\``);
    }
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
  .description(`write ${GENERATED_FIXTURES_MODULE}, the TypeScript constants of the fixtures' statuses and tasks`)
  .action(() => {
    writeFileSync(GENERATED_FIXTURES_MODULE, renderFixtureConstants(loadCatalog(program.opts().fixtures)));
    console.log(`wrote ${GENERATED_FIXTURES_MODULE}`);
  });

program
  .command('start')
  .description('run the whole pipeline here on DynamoDB Local and the SQS emulator over the sample transients')
  .option('--transients <file>', 'transients to ingest (YAML, JSON or CSV)', 'fixtures/sample_transients.yaml')
  .option('--tick <ms>', 'local length of a 60 s schedule period', positiveInteger, 1000)
  .option('--timeout <seconds>', 'give up if not finished by then', positiveInteger, 600)
  .option('--keep-running', 'leave the local stack up afterwards for the CLI and tests', false)
  .action(async (options: { transients: string; tick: number; timeout: number; keepRunning: boolean }) => {
    process.exitCode = await startLocal({
      runners: registry,
      fixturesDir: program.opts().fixtures,
      transientsFile: options.transients,
      tickMs: options.tick,
      timeoutSeconds: options.timeout,
      keepRunning: options.keepRunning,
      stateFile: '.blast-local/endpoints.json',
      logFile: '.blast-local/handlers.log',
    });
  });

program.parseAsync().catch((thrown: unknown) => {
  const error = coerceError(thrown);
  console.error(error instanceof TaskRunnerError ? `✗ ${error.message}` : `✗ ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
