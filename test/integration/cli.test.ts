/** The project's CLI as a user runs it: `npm start` end to end, Ctrl-C, and `validate` on good and bad fixtures. */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry } from '../../functions/registry';
import { loadCatalog } from '../../lib/fixtures';
import { loadTnsObjects } from '../../lib/local/tns-stand-in';
import { isTransientRunner } from '../../lib/runner';
import { readTransientFile } from '../../lib/transient-files';

interface Run {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exit: Promise<number | null>;
}

/** Runs a TypeScript entry point (the CLI by default) as a user's shell would. */
const launch = (command: readonly string[], env: Record<string, string> = {}): Run => {
  const [file = '', ...args] = command;
  const child = spawn(file, args, { detached: true, env: { ...process.env, NO_COLOR: '1', ...env } });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return { child, output: () => output, exit };
};
const cli = (args: string[]): Run => launch([process.execPath, '--import', 'tsx', 'bin/cli.ts', ...args]);

/** A copy of the project's fixtures, with `edit` applied to one file's text. */
const fixturesCopy = (edit?: { file: string; change: (text: string) => string }) => {
  const dir = mkdtempSync(join(tmpdir(), 'fixtures-'));
  for (const file of ['setup_status.yaml', 'setup_tasks.yaml']) {
    const text = readFileSync(join('fixtures', file), 'utf8');
    writeFileSync(join(dir, file), edit?.file === file ? edit.change(text) : text);
  }
  return dir;
};
/** A Node stack frame, as a crash prints it. */
const STACK_FRAME = /^\s+at /m;

const portOpen = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

describe('CLI: start', () => {
  it('runs every sample transient to completed or blocked and exits 0', async () => {
    const run = cli(['start', '--tick', '300']);
    const code = await run.exit;
    const output = run.output();
    const samples = readTransientFile('fixtures/sample_transients.yaml').transients.length;
    expect(output, output).toMatch(new RegExp(`all ${samples} transients finished`));
    expect(code).toBe(0);
    expect(output).toMatch(/2010H\s+100%\s+completed/);
    expect(output).toMatch(/2010ai\s+100%\s+blocked\s+Host match: no GHOST match/);
  }, 240_000);

  it('with --tns-local, ingests from the TNS stand-in through the TNS ingestion runner and runs the workflow', async () => {
    const run = cli(['start', '--tns-local', '--tick', '300']);
    const code = await run.exit;
    const output = run.output();
    expect(output, output).toMatch(/TNS stand-in http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toMatch(
      new RegExp(`"TNS data ingestion" ingested ${loadTnsObjects().length} transients from the TNS stand-in \\(\\d+ requests, [1-9]\\d* answered 429 and retried\\)`),
    );
    expect(output).toMatch(new RegExp(`all ${loadTnsObjects().length} transients finished`));
    expect(output).toMatch(/2010H\s+100%\s+completed/);
    expect(code).toBe(0);
  }, 240_000);

  it('with --keep-running, leaves the stack up until Ctrl-C, then stops everything it started', async () => {
    const state = '.blast-local/endpoints.json';
    const run = cli(['start', '--tick', '300', '--keep-running']);
    const deadline = Date.now() + 200_000;
    while (!existsSync(state) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    const endpoints = JSON.parse(readFileSync(state, 'utf8')) as { dynamodbEndpoint: string; sqsEndpoint: string; tableName: string };
    expect(await portOpen(endpoints.dynamodbEndpoint)).toBe(true);
    expect(await portOpen(endpoints.sqsEndpoint)).toBe(true);
    expect(run.output()).toMatch(/still running \(--keep-running\)/);

    // Ctrl-C in a terminal signals the whole process group.
    process.kill(-(run.child.pid ?? 0), 'SIGINT');
    const code = await run.exit;

    expect(code).toBe(130);
    expect(await portOpen(endpoints.dynamodbEndpoint)).toBe(false);
    expect(await portOpen(endpoints.sqsEndpoint)).toBe(false);
    expect(existsSync(state)).toBe(false);
  }, 240_000);
});

describe('CLI: validate', () => {
  it('accepts the project as it is', async () => {
    // Prepare: the counts as the registry and fixtures have them (adding a runner must not break this test)
    const catalog = loadCatalog('fixtures');
    const transient = registry.filter(isTransientRunner).length;

    // Act
    const run = cli(['validate']);

    // Assess
    expect(await run.exit).toBe(0);
    expect(run.output().trim()).toBe(
      `✓ valid: ${transient} transient and ${registry.length - transient} system runners, ${catalog.tasks.size} tasks, ${catalog.statuses.size} statuses`,
    );
  });

  it('rejects inconsistent fixtures with the file and line, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bad-fixtures-'));
    copyFileSync('fixtures/setup_tasks.yaml', join(dir, 'setup_tasks.yaml'));
    writeFileSync(join(dir, 'setup_status.yaml'), readFileSync('fixtures/setup_status.yaml', 'utf8').replace('type: success', 'type: sucess'));

    const run = cli(['--fixtures', dir, 'validate']);

    expect(await run.exit).toBe(1);
    expect(run.output()).toMatch(/setup_status\.yaml:9: status: type: type must be one of blank, success, warning, error/);
  });

  it('names the runner, field and fixture file when a task is missing from the fixtures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bad-fixtures-'));
    copyFileSync('fixtures/setup_status.yaml', join(dir, 'setup_status.yaml'));
    writeFileSync(join(dir, 'setup_tasks.yaml'), readFileSync('fixtures/setup_tasks.yaml', 'utf8').replace('name: Host MWEBV', 'name: Host dust'));

    const run = cli(['--fixtures', dir, 'validate']);

    expect(await run.exit).toBe(1);
    expect(run.output()).toMatch(/runner HostMwebv \("Host MWEBV"\), field taskName: unknown task "Host MWEBV" — not declared in .*setup_tasks\.yaml/);
    expect(run.output()).toMatch(/task "Host dust" \(.*setup_tasks\.yaml:\d+\) has no runner in the registry/);
  });
});

describe('CLI: validate with another fixtures folder', () => {
  it('accepts a copy of the project\'s fixtures read from elsewhere', async () => {
    const run = cli(['--fixtures', fixturesCopy(), 'validate']);

    expect(await run.exit, run.output()).toBe(0);
    expect(run.output()).toMatch(/^✓ valid: /);
  });

  it('says exactly what to run when the generated constants do not match the fixtures', async () => {
    // Prepare: one more error status than lib/generated/fixtures.ts knows
    const dir = fixturesCopy({ file: 'setup_status.yaml', change: (text) => `${text}- model: host.Status\n  fields:\n    message: no thumbnail\n    type: error\n` });

    // Act
    const run = cli(['--fixtures', dir, 'validate']);

    // Assess
    expect(await run.exit).toBe(1);
    expect(run.output().trim()).toBe(
      `✗ lib/generated/fixtures.ts does not match ${join(dir, 'setup_status.yaml')} and ${join(dir, 'setup_tasks.yaml')}: run \`npm run generate -- --fixtures ${JSON.stringify(dir)}\``,
    );
  });
});

describe('CDK app: a fixture or registry error at synth', () => {
  const brokenStatus = () => fixturesCopy({ file: 'setup_status.yaml', change: (text) => text.replace('type: success', 'type: sucess') });
  const brokenTask = () => fixturesCopy({ file: 'setup_tasks.yaml', change: (text) => text.replace('name: Host MWEBV', 'name: Host dust') });

  it.each([
    ['a fixture error', brokenStatus],
    ['registry errors', brokenTask],
  ])('prints %s as validate does, one line each and no stack, and exits 1', async (_case, fixtures) => {
    // Prepare
    const dir = fixtures();
    const validate = cli(['--fixtures', dir, 'validate']);
    await validate.exit;
    // What validate says about the fixtures, less what it says about lib/generated/fixtures.ts (synth does not check that).
    const expected = validate
      .output()
      .trim()
      .split('\n')
      .filter((line) => !line.includes('lib/generated/fixtures.ts'));

    // Act: the app as cdk runs it (cdk.json), with the fixtures folder as context
    const app = launch([process.execPath, '--import', 'tsx', 'bin/app.ts'], {
      CDK_CONTEXT_JSON: JSON.stringify({ fixtures: dir }),
      CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'cdk.out-')),
    });

    // Assess
    expect(await app.exit).toBe(1);
    expect(app.output().trim().split('\n')).toEqual(expected);
    expect(app.output()).not.toMatch(STACK_FRAME);
  }, 60_000);

  it('through `npm run synth`: the error once, no stack, a non-zero exit', async () => {
    // Act
    const synth = launch(['npm', 'run', 'synth', '--', '-c', `fixtures=${brokenStatus()}`]);

    // Assess
    expect(await synth.exit).not.toBe(0);
    const output = synth.output();
    expect(output.match(/setup_status\.yaml:9: status: type: type must be one of blank, success, warning, error/g), output).toHaveLength(1);
    expect(output).toMatch(/^✗ .*setup_status\.yaml:9: /m);
    expect(output).not.toMatch(STACK_FRAME);
    expect(output).not.toMatch(/Template validation|Resources section must exist/);
  }, 120_000);
});
