/** The project's CLI as a user runs it: `npm start` end to end, Ctrl-C, and `validate` on good and bad fixtures. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { registry } from '../../runners/registry';
import { loadCatalog } from '../../lib/fixtures/load-catalog';
import { loadTnsObjects } from '../../lib/local/tns-stand-in';
import { isTransientRunner } from '../../lib/runner';
import { fakeJavaHome } from '../helpers/fake-java';
import { readTransientFile } from '../../lib/fixtures/transient-files';
import { SystemTaskName } from '../../runners/system-tasks';
import { type Run, cli, endWithin, endpointsOf, launch, runCli, signalGroup } from '../helpers/cli-process';

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

/**
 * A whole run's own limit: a run that stalls gives up and prints where each transient stands. Stopping may then wait
 * for runs in flight, so the test waits a while longer, and past that fails with what it printed (the test's own
 * timeout would show nothing).
 */
const RUN_TIMEOUT = ['--timeout', '200'];
const RUN_ENDS_MS = 280_000;
const WHOLE_RUN_MS = 300_000;

describe('CLI: start', () => {
  afterEach(stopStarted);

  it('runs every sample transient to completed or blocked and exits 0', async () => {
    const run = track(cli(['start', '--tick', '300', ...RUN_TIMEOUT]));
    const code = await endWithin(run, RUN_ENDS_MS);
    const output = run.output();
    const samples = readTransientFile('fixtures/sample_transients.yaml').transients.length;
    expect(output, output).toMatch(new RegExp(`all ${samples} transients finished`));
    expect(code).toBe(0);
    expect(output).toMatch(/2010H\s+100%\s+completed/);
    expect(output).toMatch(/2010ai\s+100%\s+blocked\s+Host match: no GHOST match/);
  }, WHOLE_RUN_MS);

  it('with --tns-local, ingests from the TNS stand-in through the TNS ingestion runner and runs the workflow', async () => {
    const run = track(cli(['start', '--tns-local', '--tick', '300', ...RUN_TIMEOUT]));
    const code = await endWithin(run, RUN_ENDS_MS);
    const output = run.output();
    expect(output, output).toMatch(/TNS stand-in http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toMatch(
      new RegExp(`"${SystemTaskName.TnsDataIngestion}" ingested ${loadTnsObjects().length} transients from the TNS stand-in \\(\\d+ requests, [1-9]\\d* answered 429 and retried\\)`),
    );
    expect(output).toMatch(new RegExp(`all ${loadTnsObjects().length} transients finished`));
    expect(output).toMatch(/2010H\s+100%\s+completed/);
    expect(code).toBe(0);
  }, WHOLE_RUN_MS);

  it('with a Java older than 17 in JAVA_HOME, says so in one line, starts nothing and exits 1', async () => {
    // Prepare
    const javaHome = fakeJavaHome('openjdk version "11.0.2" 2019-01-15');

    // Act
    const run = cli(['start', '--transients', examplesFile()], { JAVA_HOME: javaHome });

    // Assess
    expect(await run.exit).toBe(1);
    const output = run.output().trim().split('\n');
    expect(output.at(-1)).toBe(
      `Java 17 or newer is needed for DynamoDB Local; found "openjdk version \\"11.0.2\\" 2019-01-15" (${join(javaHome, 'bin', 'java')}, from JAVA_HOME). ` +
        'Install one (Debian: apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME to one',
    );
    expect(run.output()).not.toMatch(/LinkageError|starting DynamoDB Local/);
  });

  it('with --keep-running, leaves the stack up until Ctrl-C, then stops everything it started', async () => {
    const state = '.blast-local/endpoints.json';
    // Blast's three examples: the whole sample set's run is the first test's; this one is about what stays up and what stops.
    const run = track(cli(['start', '--tick', '300', '--keep-running', '--transients', examplesFile()]));
    const endpoints = await endpointsOf<{ dynamodbEndpoint: string; sqsEndpoint: string }>(run, state);
    expect(await portOpen(endpoints.dynamodbEndpoint)).toBe(true);
    expect(await portOpen(endpoints.sqsEndpoint)).toBe(true);
    expect(run.output()).toMatch(/still running \(--keep-running\)/);
    // The web view stays up with it, its page and its API on one loopback port.
    const web = /web view: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(run.output())?.[1] ?? '';
    expect(web, run.output()).not.toBe('');
    expect((await fetch(web)).status).toBe(200);
    expect(await (await fetch(`${web}api/counts`)).json()).toMatchObject({ total: 3 });

    // Ctrl-C in a terminal signals the whole process group.
    signalGroup(run.child, 'SIGINT');
    const code = await run.exit;

    expect(code).toBe(130);
    expect(await portOpen(endpoints.dynamodbEndpoint)).toBe(false);
    expect(await portOpen(endpoints.sqsEndpoint)).toBe(false);
    expect(await portOpen(web)).toBe(false);
    expect(existsSync(state)).toBe(false);
  }, 240_000);
});

/** What `start --keep-running` writes to its endpoints file. */
interface Endpoints {
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  readonly pid: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Blast's three example transients as a file, so a run reaches "still running" quickly. */
const examplesFile = () => {
  const file = join(mkdtempSync(join(tmpdir(), 'examples-')), 'examples.json');
  const examples = readTransientFile('fixtures/sample_transients.yaml').transients.filter((t) => ['2010H', '2010ag', '2010ai'].includes(t.name));
  writeFileSync(file, JSON.stringify(examples.map((t) => ({ name: t.name, ra: t.raDeg, dec: t.decDeg, public_timestamp: t.publicTimestamp }))));
  return file;
};

/** Runs started by a test, stopped (their whole process group) if the test failed or timed out before they ended. */
const started: Run[] = [];
const track = (run: Run): Run => {
  started.push(run);
  return run;
};
function stopStarted(): void {
  for (const run of started.splice(0)) signalGroup(run.child, 'SIGKILL');
}

/** Starts `start --keep-running` (through `command`) on its own endpoints file and waits until it is up. */
const keepRunning = async (command: (args: string[]) => Run) => {
  const stateFile = join(mkdtempSync(join(tmpdir(), 'keep-running-')), 'endpoints.json');
  const run = track(command(['start', '--keep-running', '--tick', '300', '--transients', examplesFile(), '--state-file', stateFile]));
  const endpoints = await endpointsOf<Endpoints>(run, stateFile);
  expect(await portOpen(endpoints.dynamodbEndpoint)).toBe(true);
  return { run, stateFile, endpoints };
};

/**
 * The processes of that run still alive: DynamoDB Local (java, by its port), the process watching it, and the
 * SQS emulator (by its port). Read from /proc, as `ps` would.
 */
const processesOf = (endpoints: Endpoints): string[] => {
  const ports = [endpoints.dynamodbEndpoint, endpoints.sqsEndpoint].map((url) => new URL(url).port);
  return readdirSync('/proc').flatMap((pid) => {
    if (!/^\d+$/.test(pid)) return [];
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      return [];
    }
    const serves = args.some((arg, index) => ports.includes(arg) && (args[index - 1] === '-port' || /(dynamodb-local|sqs-emulator)-process\.ts$/.test(args[index - 1] ?? '')));
    return serves ? [`${pid} ${args.join(' ').slice(0, 120)}`] : [];
  });
};

/** Waits until nothing of the run is left, or fails listing what is. */
const nothingLeftOf = async (endpoints: Endpoints, withinMs = 20_000) => {
  const deadline = Date.now() + withinMs;
  while (processesOf(endpoints).length > 0 && Date.now() < deadline) await sleep(250);
  expect(processesOf(endpoints)).toEqual([]);
  expect(await portOpen(endpoints.dynamodbEndpoint)).toBe(false);
  expect(await portOpen(endpoints.sqsEndpoint)).toBe(false);
};

describe('CLI: start --keep-running, stopped every way', () => {
  afterEach(stopStarted);

  it('on SIGTERM to the CLI alone (as a process manager sends it), stops like Ctrl-C: nothing left, no endpoints file', async () => {
    // Prepare
    const { run, stateFile, endpoints } = await keepRunning(cli);
    expect(processesOf(endpoints)).toHaveLength(3);

    // Act
    run.child.kill('SIGTERM');

    // Assess
    expect(await run.exit).toBe(143);
    expect(run.output()).toMatch(/SIGTERM: stopping everything this run started/);
    await nothingLeftOf(endpoints);
    expect(existsSync(stateFile)).toBe(false);
  }, 240_000);

  it('through `npm start`, on SIGTERM to npm alone: nothing left, no endpoints file', async () => {
    // Prepare
    const { run, stateFile, endpoints } = await keepRunning((args) => launch(['npm', 'start', '--', ...args.slice(1)]));

    // Act
    run.child.kill('SIGTERM');
    await run.exit;

    // Assess
    await nothingLeftOf(endpoints);
    expect(existsSync(stateFile)).toBe(false);
    expect(run.output()).toMatch(/SIGTERM: stopping everything this run started/);
  }, 240_000);

  it('on SIGKILL of the CLI, which no handler sees: DynamoDB Local and the emulator stop themselves, the endpoints file reads as stale', async () => {
    // Prepare
    const { run, stateFile, endpoints } = await keepRunning(cli);

    // Act
    run.child.kill('SIGKILL');
    await run.exit;

    // Assess
    await nothingLeftOf(endpoints);
    const status = cli(['--state-file', stateFile, 'status', '2010H']);
    expect(await status.exit).toBe(1);
    expect(status.output().trim()).toBe(
      `✗ no local runtime: ${stateFile} is stale (the run that wrote it, process ${endpoints.pid}, is gone); start it with \`npm start -- --keep-running --state-file ${stateFile}\``,
    );
  }, 240_000);
});

describe('CLI: --json for start and generate', () => {
  it('start --json prints what it shows on stderr and one JSON document on stdout: each transient as it finished', async () => {
    // Prepare: the sample transients, from a file of the test's own
    const dir = mkdtempSync(join(tmpdir(), 'start-json-'));
    const file = join(dir, 'samples.yaml');
    const sample = readFileSync('fixtures/sample_transients.yaml', 'utf8');
    writeFileSync(file, sample);
    const names = readTransientFile(file).transients.map((transient) => transient.name);

    // Act
    const result = await runCli(['--state-file', join(dir, 'endpoints.json'), 'start', '--tick', '300', '--transients', file, '--json']);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/all \d+ transients finished/);
    const document = JSON.parse(result.stdout) as { finished: boolean; transients: { name: string; progress: number; processingStatus: string }[] };
    expect(document.finished).toBe(true);
    expect(document.transients.map((transient) => transient.name).sort()).toEqual([...names].sort());
    expect(document.transients.find((transient) => transient.name === '2010H')).toEqual({ name: '2010H', progress: 100, processingStatus: 'completed' });
  }, 240_000);

  it('generate --json says what it wrote, and writes exactly what is committed', async () => {
    const result = await runCli(['generate', '--json']);

    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ wrote: expect.arrayContaining(['lib/generated/fixtures.ts', 'lib/generated/runner-sources.ts']) });
    expect(spawnSync('git', ['status', '--porcelain', 'lib/generated', 'docs/workflow.md'], { encoding: 'utf8' }).stdout).toBe('');
  }, 120_000);
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
    writeFileSync(join(dir, 'setup_tasks.yaml'), readFileSync('fixtures/setup_tasks.yaml', 'utf8').replace('name: Host information', 'name: Host facts'));

    const run = cli(['--fixtures', dir, 'validate']);

    expect(await run.exit).toBe(1);
    expect(run.output()).toMatch(/runner HostInformation \("Host information"\), field taskName: unknown task "Host information" — not declared in .*setup_tasks\.yaml/);
    // A Python runner's prerequisite is named with its class and file.
    expect(run.output()).toMatch(/Python runner HostMWEBV in runners\/python\/mwebv\.py \("Host MWEBV"\), field prerequisites: unknown task "Host information"/);
    expect(run.output()).toMatch(/task "Host facts" \(.*setup_tasks\.yaml:\d+\) has no runner in the registry/);
  });
});

describe('CLI: validate with another fixtures folder', () => {
  it('accepts a copy of the project\'s fixtures read from elsewhere', async () => {
    const run = cli(['--fixtures', fixturesCopy(), 'validate']);

    expect(await run.exit, run.output()).toBe(0);
    expect(run.output()).toMatch(/^✓ valid: /);
  });

  it("accepts Blast's fixtures with a field it does not read, and says it ignored it", async () => {
    // Prepare: an explanation on a status, as a later Blast model might carry
    const dir = fixturesCopy({ file: 'setup_status.yaml', change: (text) => text.replace('    type: success', '    type: success\n    explanation: the task ran') });

    // Act
    const run = cli(['--fixtures', dir, 'validate']);

    // Assess
    expect(await run.exit, run.output()).toBe(0);
    expect(run.output()).toContain(`! ${join(dir, 'setup_status.yaml')}:9: status: ignored the field "explanation" (not read by this project)`);
    expect(run.output()).toMatch(/^✓ valid: /m);
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
