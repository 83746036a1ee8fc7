/**
 * A Python runner in the stack: its own function on Lambda's Python runtime, whose role may write its logs and
 * nothing else, invoked by its worker (the one function allowed to), with an asset that runs as Lambda runs it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { PYTHON_ARCHITECTURE, PYTHON_HANDLER, PYTHON_RUNTIME, PythonRunnerFunction } from '../../lib/constructs/python-runner-function';
import { ENV } from '../../lib/settings/config';
import { PYTHON_WORKER_MARGIN_SECONDS } from '../../lib/domain/limits';
import { pythonExecutable } from '../../lib/python/interpreter';
import { describePythonRunners } from '../../lib/python/declarations';
import { PythonTransientRunner } from '../../lib/runner';
import { registry } from '../../runners/registry';
import { pythonRunner } from '../../runners/python-runner';
import { sampleTransient } from '../helpers/factories';
import { grantLines, grantsOf } from '../helpers/iam';
import { arnOf, logicalId, synthStack } from '../helpers/stack';
import { resolvedJson, resource } from '../helpers/template';

const EXAMPLE = pythonRunner('runners/python/example_runner.py', 'ExampleTaskRunner');
// A Python runner that declares uses_artifacts (its cutouts), in place of the TypeScript one.
const CUTOUTS = pythonRunner('runners/python/cutout_download.py', 'ImageDownload');
const swapped = new Set([EXAMPLE.taskName, CUTOUTS.taskName]);
const runners = [...registry.filter((runner) => !swapped.has(runner.taskName)), EXAMPLE, CUTOUTS];
const { stack, json } = synthStack(runners);
const built = stack.transientRunners.find((candidate) => candidate.taskName === EXAMPLE.taskName);
if (!built?.pythonFunction) throw new Error('no Python function for the example runner');
const python = built.pythonFunction;
const pythonId = logicalId(python.function);

describe('Stack: a Python runner', () => {
  it("has its own function on Lambda's Python runtime, with the runner's memory and timeout and its class named", () => {
    expect(resource(json, pythonId).Properties).toMatchObject({
      Runtime: PYTHON_RUNTIME.name,
      Architectures: [PYTHON_ARCHITECTURE.name],
      Handler: PYTHON_HANDLER,
      MemorySize: EXAMPLE.memorySize,
      Timeout: EXAMPLE.python.timeoutSeconds,
      Environment: { Variables: expect.objectContaining({ BLAST_RUNNER_FILE: 'runners/python/example_runner.py', BLAST_RUNNER_CLASS: 'ExampleTaskRunner' }) },
    });
  });

  it('gives its worker, which waits for the function, a margin more than the function may run', () => {
    expect(resource(json, logicalId(built.worker.function)).Properties?.Timeout).toBe(EXAMPLE.python.timeoutSeconds + PYTHON_WORKER_MARGIN_SECONDS);
  });

  const variablesOf = (id: string) => (resource(json, id).Properties?.Environment as { Variables: Record<string, unknown> }).Variables;

  it('lets that function write its logs and nothing else: no table, no queue, no artifacts (it declares none)', () => {
    expect([EXAMPLE.usesArtifacts, EXAMPLE.readsArtifacts]).toEqual([false, false]);
    expect(grantLines(grantsOf(json, pythonId))).toEqual([`logs:CreateLogStream ${arnOf(python.logGroup)}`, `logs:PutLogEvents ${arnOf(python.logGroup)}`]);
    expect(variablesOf(pythonId)[ENV.artifactLocation]).toBeUndefined();
  });

  it("lets the function of a runner that declares uses_artifacts write its own task's artifacts and read the artifacts, and tells it where", () => {
    if (!stack.scratch) throw new Error('no bucket for the artifacts');
    const cutouts = stack.transientRunners.find((candidate) => candidate.taskName === CUTOUTS.taskName)?.pythonFunction;
    if (!cutouts) throw new Error('no Python function for Cutout download');
    const bucket = arnOf(stack.scratch.bucket);
    expect(CUTOUTS.usesArtifacts).toBe(true);
    expect(grantLines(grantsOf(json, logicalId(cutouts.function)))).toEqual([
      `logs:CreateLogStream ${arnOf(cutouts.logGroup)}`,
      `logs:PutLogEvents ${arnOf(cutouts.logGroup)}`,
      `s3:GetObject ${bucket}/artifacts/*`,
      `s3:PutObject ${bucket}/artifacts/*/Cutout%20download/*`,
    ]);
    expect(variablesOf(logicalId(cutouts.function))[ENV.artifactLocation]).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: logicalId(stack.scratch.bucket) }, '/artifacts/']] });
  });

  it('lets its worker, and no other function, invoke it, and tells the worker its name', () => {
    const functions = Object.entries(json.Resources).filter(([, candidate]) => candidate.Type === 'AWS::Lambda::Function').map(([id]) => id);
    const invokers = functions.filter((id) => grantLines(grantsOf(json, id)).some((line) => line.startsWith('lambda:')));
    // Every Python runner's worker invokes its own function, and no other function invokes any.
    const withPython = stack.transientRunners.flatMap((candidate) => (candidate.pythonFunction ? [{ worker: candidate.worker.function, own: candidate.pythonFunction.function, task: candidate.taskName }] : []));
    expect(withPython.map(({ task }) => task)).toEqual(expect.arrayContaining([EXAMPLE.taskName, CUTOUTS.taskName]));
    expect(invokers.sort()).toEqual(withPython.map(({ worker }) => logicalId(worker)).sort());
    for (const { worker, own } of withPython) {
      expect(grantLines(grantsOf(json, logicalId(worker))).filter((line) => line.startsWith('lambda:'))).toEqual([`lambda:InvokeFunction ${arnOf(own)}`]);
    }
    const variables = (resource(json, logicalId(built.worker.function)).Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(resolvedJson(variables[ENV.runnerFunctions])).toEqual({ [EXAMPLE.taskName]: `<Ref:${pythonId}>` });
  });

  it('leaves cdk-nag nothing unacknowledged', () => {
    expect(new AwsSolutionsChecks().validateScope(stack).violations.map((violation) => violation.ruleName)).toEqual([]);
  });

  it('bundles, without Docker, an asset that runs the runner as Lambda loads it', () => {
    // Prepare: the function alone, bundled
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'python-asset-')), context: { 'aws:cdk:enable-asset-metadata': true } });
    const alone = new PythonRunnerFunction(new Stack(app, 'PythonAlone'), 'Example', { runner: EXAMPLE });
    // Another runner's function in the same app, from another folder: its own code, not a copy of the first bundle.
    const [elsewhere] = describePythonRunners(['test/helpers/python/long_runner.py']).map((declared) => new PythonTransientRunner(declared));
    if (!elsewhere) throw new Error('test/helpers/python/long_runner.py declares no runner');
    const other = new PythonRunnerFunction(new Stack(app, 'PythonElsewhere'), 'Long', { runner: elsewhere });
    const assembly = app.synth();
    const assetOf = (stackName: string, fn: typeof alone.function) =>
      join(assembly.directory, String((resource(assembly.getStackByName(stackName).template as never, logicalId(fn)).Metadata ?? {})['aws:asset:path']));
    const assetPath = assetOf('PythonAlone', alone.function);
    const otherPath = assetOf('PythonElsewhere', other.function);
    expect(existsSync(join(assetPath, 'blast_tasks', 'lambda_handler.py'))).toBe(true);
    expect(existsSync(join(assetPath, 'runners', 'python', 'example_runner.py'))).toBe(true);
    expect([existsSync(join(otherPath, 'test', 'helpers', 'python', 'long_runner.py')), existsSync(join(otherPath, 'runners'))]).toEqual([true, false]);

    // Act: Lambda's Python runtime imports the handler from the task root, with the function's environment
    const event = { transient: sampleTransient('2010H'), attempt: 1, runId: 'run.1' };
    const run = spawnSync(pythonExecutable(), ['-c', `import json, sys; from blast_tasks.lambda_handler import handler; print(json.dumps(handler(json.loads(sys.argv[1]))))`, JSON.stringify(event)], {
      cwd: assetPath,
      env: { PATH: process.env.PATH, PYTHONPATH: assetPath, BLAST_RUNNER_FILE: 'runners/python/example_runner.py', BLAST_RUNNER_CLASS: 'ExampleTaskRunner' },
      encoding: 'utf8',
    });

    // Assess
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ status: 'processed' });
  });
});
