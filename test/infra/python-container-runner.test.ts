/**
 * A Python runner whose runs happen in a container, in the stack: one Fargate task of three public images (the
 * fetch container, the run, and the Python image of Lambda's Python version serving the runner's handler on the
 * loopback interface), on the machine the Python packages are built for; the runner's code and the lock's packages
 * (the Lambda layer's own asset) copied from S3 by the fetch container; no Lambda function of its own; the Python
 * side without credentials unless the runner declares artifacts, and then exactly the artifacts it declares. The
 * code asset, as bundled, serves the runner's handler to the client a run calls it with.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { CODE_DIR, FETCH_IMAGE, PYTHON_CONTAINER, PYTHON_IMAGE, PYTHON_PORT, RUN_CONTAINER, RUN_IMAGE, TASK_CREDENTIALS_VARIABLE } from '../../lib/constructs/container-runner';
import { copyPythonRunnerCode } from '../../lib/constructs/python-runner-function';
import { PYTHON_RUNTIME } from '../../lib/constructs/python-runtime';
import { fargateCpuFor } from '../../lib/domain/compute';
import { CONTAINER_FUNCTION_NAME, INVOKE_SERVER_MODULE } from '../../lib/python/container-server';
import { describePythonRunners } from '../../lib/python/declarations';
import { pythonExecutable } from '../../lib/python/interpreter';
import { invokeClient, lambdaRunnerFunctions } from '../../lib/python/lambda-functions';
import { RunnerFunctionError } from '../../lib/engine/runner-functions';
import { PythonTransientRunner, isPythonRunner } from '../../lib/runner';
import { ENV } from '../../lib/settings/config';
import { localAwsEnv } from '../../lib/local/services';
import { registry } from '../../runners/registry';
import { grantLines, grantsOf, grantsOfRole } from '../helpers/iam';
import { arnOf, logicalId, synthStack } from '../helpers/stack';
import { PINNED_PUBLIC_IMAGE, placeholders, resolveIntrinsics, resolvedJson, resource, resourcesOfType } from '../helpers/template';

const FILE = 'test/helpers/python/sed_fitting.py';
const declared = describePythonRunners([FILE]).map((declaration) => new PythonTransientRunner(declaration));
const [sed, withPosteriors] = ['SedFitting', 'SedFittingWithPosteriors'].map((name) => {
  const found = declared.find((runner) => runner.python.className === name);
  if (!found) throw new Error(`${FILE} has no class ${name}`);
  return found;
}) as [PythonTransientRunner, PythonTransientRunner];
// The registry, with the two SED tasks run by these classes (its own Python runners stay in Lambda).
const runners = [...registry.filter((runner) => runner.taskName !== sed.taskName && runner.taskName !== withPosteriors.taskName), sed, withPosteriors];
const { stack, json } = synthStack(runners);

const builtOf = (runner: PythonTransientRunner) => {
  const built = stack.transientRunners.find((candidate) => candidate.taskName === runner.taskName);
  if (!built?.container) throw new Error(`no container for ${runner.taskName}`);
  return { built, container: built.container };
};
interface ContainerJson {
  Name: string;
  Image: string;
  Command?: unknown[];
  EntryPoint?: string[];
  Essential?: boolean;
  DependsOn?: unknown;
  Environment?: { Name: string; Value: unknown }[];
  HealthCheck?: { Command: string[] };
  MountPoints?: { ReadOnly: boolean }[];
}
const containersOf = (runner: PythonTransientRunner) =>
  resource(json, logicalId(builtOf(runner).container.taskDefinition)).Properties?.ContainerDefinitions as ContainerJson[];
const named = (runner: PythonTransientRunner, name: string) => {
  const found = containersOf(runner).find((entry) => entry.Name === name);
  if (!found) throw new Error(`no container ${name}`);
  return found;
};
/** A container's environment, its JSON values parsed. */
const environmentOf = (entry: ContainerJson) =>
  Object.fromEntries(
    (entry.Environment ?? []).map((variable) => {
      const value = resolveIntrinsics(variable.Value, placeholders);
      return [variable.Name, typeof value === 'string' && value.startsWith('{') ? resolvedJson(variable.Value) : value];
    }),
  );
const commandOf = (entry: ContainerJson) => String((resolveIntrinsics(entry.Command, placeholders) as string[])[0]);

describe('Stack: a Python runner with compute = "container"', () => {
  it("runs one Fargate task of public images, the Python one of Lambda's Python version, on the packages' machine", () => {
    const definition = resource(json, logicalId(builtOf(sed).container.taskDefinition)).Properties ?? {};
    expect(definition).toMatchObject({ Cpu: String(fargateCpuFor(8192)), Memory: '8192', RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' } });
    expect(containersOf(sed).map((entry) => [entry.Name, entry.Image])).toEqual([
      ['fetch', FETCH_IMAGE],
      [RUN_CONTAINER, RUN_IMAGE],
      [PYTHON_CONTAINER, PYTHON_IMAGE],
    ]);
    expect(PYTHON_IMAGE).toBe(`public.ecr.aws/docker/library/python:${PYTHON_RUNTIME.name.replace('python', '')}-slim-bookworm`);
    for (const { Image } of containersOf(sed)) expect(Image).toMatch(PINNED_PUBLIC_IMAGE);
  });

  it("has the fetch container copy the runner's code and the lock's packages, the very object of the Lambda layer", () => {
    const fetch = commandOf(named(sed, 'fetch'));
    expect(fetch).toMatch(
      new RegExp(`aws s3 cp s3://cdk-[^ ]+\\.zip ${CODE_DIR}/python-code\\.zip && aws s3 cp s3://cdk-[^ ]+/([0-9a-f]+\\.zip) ${CODE_DIR}/python-packages\\.zip$`),
    );
    const layers = resourcesOfType(json, 'AWS::Lambda::LayerVersion');
    expect(layers).toHaveLength(1);
    const layerKey = String(resolveIntrinsics((layers[0]?.[1].Properties?.Content as { S3Key: unknown }).S3Key, placeholders));
    expect(fetch.endsWith(`/${layerKey} ${CODE_DIR}/python-packages.zip`)).toBe(true);
    // The task role reads exactly the objects it copies.
    const reads = grantLines(grantsOfRole(json, logicalId(builtOf(sed).container.taskRole))).filter((line) => line.startsWith('s3:GetObject') && !line.includes('/artifacts/'));
    expect(reads).toHaveLength(5);
  });

  it("serves the runner's handler on the loopback port once healthy, without the task role's credentials", () => {
    const python = named(sed, PYTHON_CONTAINER);
    expect(python.EntryPoint).toEqual(['sh', '-c']);
    expect(commandOf(python)).toBe(
      `python -m zipfile -e ${CODE_DIR}/python-packages.zip /opt/blast/packages && python -m zipfile -e ${CODE_DIR}/python-code.zip /opt/blast/code && cd /opt/blast/code && exec env -u ${TASK_CREDENTIALS_VARIABLE} python -m ${INVOKE_SERVER_MODULE} ${PYTHON_PORT}`,
    );
    expect(environmentOf(python)).toEqual({
      AWS_REGION: '<Ref:AWS::Region>',
      BLAST_RUNNER_FILE: FILE,
      BLAST_RUNNER_CLASS: 'SedFitting',
      PYTHONPATH: '/opt/blast/code:/opt/blast/packages/python',
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
    });
    expect(python.HealthCheck?.Command.join(' ')).toContain(`http://127.0.0.1:${PYTHON_PORT}/ping`);
    expect(python.MountPoints).toEqual([expect.objectContaining({ ReadOnly: true })]);
    expect(python.DependsOn).toEqual([{ Condition: 'SUCCESS', ContainerName: 'fetch' }]);
    const run = named(sed, RUN_CONTAINER);
    expect(run.DependsOn).toEqual([
      { Condition: 'SUCCESS', ContainerName: 'fetch' },
      { Condition: 'HEALTHY', ContainerName: PYTHON_CONTAINER },
    ]);
    expect(environmentOf(run)).toMatchObject({ AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${PYTHON_PORT}`, [ENV.runnerFunctions]: { [sed.taskName]: CONTAINER_FUNCTION_NAME } });
    expect(Object.keys(environmentOf(python))).not.toContain(ENV.artifactLocation);
  });

  it('has no Lambda function of its own: its worker may start its task and invoke nothing', () => {
    const { built } = builtOf(sed);
    expect(built.pythonFunction).toBeUndefined();
    expect(grantLines(grantsOf(json, logicalId(built.worker.function))).filter((line) => line.startsWith('lambda:'))).toEqual([]);
    const pythonFunctions = resourcesOfType(json, 'AWS::Lambda::Function').filter(([, fn]) => fn.Properties?.Runtime === PYTHON_RUNTIME.name);
    expect(pythonFunctions).toHaveLength(registry.filter(isPythonRunner).length);
  });

  it('gives the task role no artifact access for a runner that declares none', () => {
    expect(grantLines(grantsOfRole(json, logicalId(builtOf(sed).container.taskRole))).filter((line) => line.includes('/artifacts/'))).toEqual([]);
  });

  it('lets the Python side of a runner that declares artifacts keep the credentials and reach exactly its artifacts, and tells it where', () => {
    if (!stack.scratch) throw new Error('no bucket for the artifacts');
    const bucket = arnOf(stack.scratch.bucket);
    const { container } = builtOf(withPosteriors);
    expect(grantLines(grantsOfRole(json, logicalId(container.taskRole))).filter((line) => line.includes('/artifacts/'))).toEqual([
      `s3:GetObject ${bucket}/artifacts/*`,
      `s3:PutObject ${bucket}/artifacts/*/${encodeURIComponent(withPosteriors.taskName)}/*`,
    ]);
    const python = named(withPosteriors, PYTHON_CONTAINER);
    expect(commandOf(python)).toMatch(new RegExp(`&& exec env python -m ${INVOKE_SERVER_MODULE} ${PYTHON_PORT}$`));
    expect(Object.keys(environmentOf(python))).toContain(ENV.artifactLocation);
  });

  it('leaves cdk-nag nothing unacknowledged', () => {
    const findings = new AwsSolutionsChecks().validateScope(stack).violations.map((violation) => `${violation.ruleName} at ${violation.violatingResources.map((found) => found.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
  });
});

describe.sequential("A Python container run's code asset, as bundled", () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGKILL');
  });

  it('serves the runner through the client the run calls it with, and reports what the runner raises as its function error', async () => {
    // Prepare: the asset's folder, outside the project, served as the Python container serves it.
    const dir = mkdtempSync(join(tmpdir(), 'python-container-code-'));
    copyPythonRunnerCode(dir, FILE);
    server = spawn(pythonExecutable(), ['-m', INVOKE_SERVER_MODULE, '0'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', PYTHONPATH: dir, BLAST_RUNNER_FILE: FILE, BLAST_RUNNER_CLASS: 'SedFitting' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const printed: string[] = [];
    if (server.stderr) createInterface({ input: server.stderr }).on('line', (line) => printed.push(line));
    const port = await new Promise<string>((resolve, reject) => {
      if (server?.stdout) createInterface({ input: server.stdout }).once('line', (line) => resolve(line.replace('listening on ', '')));
      server?.once('exit', (code) => reject(new Error(`the server exited with ${code}: ${printed.join('\n')}`)));
    });
    // The run container's environment: its region, credentials (the task role's there), the loopback endpoint.
    Object.assign(process.env, localAwsEnv, { AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${port}` });
    const functions = lambdaRunnerFunctions(invokeClient(sed.timeoutSeconds), { [sed.taskName]: CONTAINER_FUNCTION_NAME });
    const transient = { name: 'sn-sed', raDeg: 10, decDeg: -5, publicTimestamp: '2026-01-01T00:00:00Z' };

    // Act
    const result = await functions.run(sed.taskName, { transient, attempt: 1, runId: 'run-1' });
    const failed = await functions.run(sed.taskName, { transient: { ...transient, raDeg: 'not a number' } as unknown as typeof transient, attempt: 1, runId: 'run-2' }).catch((error: unknown) => error);
    delete process.env.AWS_ENDPOINT_URL_LAMBDA;

    // Assess
    expect(result).toEqual({ status: 'processed' });
    expect(failed).toBeInstanceOf(RunnerFunctionError);
    expect(failed).toMatchObject({ errorType: 'ValueError' });
    expect(printed).toContain('fitting the host of sn-sed');
  }, 30_000);

  it("starts as the Python container's command starts it, from the two zipped assets, without the credentials' variable", async () => {
    // Prepare: the task's folders under a temporary root, its two assets zipped as CDK zips a folder, `python` on the PATH.
    const root = mkdtempSync(join(tmpdir(), 'python-container-task-'));
    const [code, packages, bin] = ['code-src', 'packages-src', 'bin'].map((name) => join(root, name)) as [string, string, string];
    copyPythonRunnerCode(code, FILE);
    mkdirSync(join(packages, 'python', 'stand_in'), { recursive: true });
    writeFileSync(join(packages, 'python', 'stand_in', '__init__.py'), '');
    mkdirSync(join(root, 'code'));
    const zip = (dir: string, file: string) => spawnSync(pythonExecutable(), ['-m', 'zipfile', '-c', file, ...readdirSync(dir)], { cwd: dir });
    zip(code, join(root, 'code', 'python-code.zip'));
    zip(packages, join(root, 'code', 'python-packages.zip'));
    mkdirSync(bin);
    symlinkSync(pythonExecutable(), join(bin, 'python'));
    const python = named(sed, PYTHON_CONTAINER);
    const command = commandOf(python).replaceAll(`${CODE_DIR}/`, `${root}/code/`).replaceAll('/opt/blast', join(root, 'opt')).replace(` ${PYTHON_PORT}`, ' 0');
    const environment = Object.fromEntries(Object.entries(environmentOf(python)).map(([name, value]) => [name, String(value).replaceAll('/opt/blast', join(root, 'opt'))]));

    // Act
    const task = spawn('sh', ['-c', command], { env: { PATH: `${bin}:${process.env.PATH ?? ''}`, ...environment, [TASK_CREDENTIALS_VARIABLE]: '/v2/credentials/secret' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const printed: string[] = [];
    if (task.stderr) createInterface({ input: task.stderr }).on('line', (line) => printed.push(line));
    const listening = await new Promise<string>((resolve, reject) => {
      if (task.stdout) createInterface({ input: task.stdout }).once('line', resolve);
      task.once('exit', (status) => reject(new Error(`the command exited with ${status}: ${printed.join('\n')}`)));
    });
    const seen = readFileSync(`/proc/${task.pid ?? 0}/environ`, 'utf8').split('\0');
    task.kill('SIGTERM');

    // Assess: it listens, from the unpacked code, with the packages' folder on its path, and no credentials' variable.
    expect(listening).toMatch(/^listening on \d+$/);
    expect(existsSync(join(root, 'opt', 'packages', 'python', 'stand_in', '__init__.py'))).toBe(true);
    expect(seen).toContain(`BLAST_RUNNER_FILE=${FILE}`);
    expect(seen.filter((variable) => variable.startsWith(`${TASK_CREDENTIALS_VARIABLE}=`))).toEqual([]);
  }, 30_000);

  it('exits at once on the SIGTERM that stops its task (as the container\'s first process, it would otherwise ignore it)', async () => {
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => server?.once('exit', (code, signal) => resolve([code, signal])));
    server?.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
  });
});
