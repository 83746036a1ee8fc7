/**
 * A Python runner's own function (issue 14): Lambda's Python runtime (python-runtime.ts) running
 * python/blast_tasks/lambda_handler.py with the runner's file, the stack's layer of the Python runners'
 * packages (python-packages-layer.ts), its memory and timeout, its own log group and a
 * role that may write its logs and nothing else: it reads and writes no table and no queue, because its worker
 * (the TypeScript engine) claims, invokes it with the transient and settles. The asset is built at synth by
 * copying the package and the runner's file, no Docker.
 */
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AssetHashType, DockerImage, Duration, Validations } from 'aws-cdk-lib';
import type { Role } from 'aws-cdk-lib/aws-iam';
import { Code, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { runnerLabel } from '../domain/validation';
import type { PythonTransientRunner } from '../runner';
import { PROJECT_ROOT, ownLogsAndRole } from './handler-function';
import { LocalBundling } from './local-bundling';
import { PythonPackagesLayer } from './python-packages-layer';
import { PYTHON_ARCHITECTURE, PYTHON_RUNTIME } from './python-runtime';

export { PYTHON_ARCHITECTURE, PYTHON_RUNTIME };
/** The handler every Python runner's function runs. */
export const PYTHON_HANDLER = 'blast_tasks.lambda_handler.handler';

/**
 * A Python runner's code as it runs, in its function or its container: the blast_tasks package and the runner's
 * whole folder (the file's own helpers import from beside it, as they do here), at the paths they have here.
 */
export const copyPythonRunnerCode = (outputDir: string, file: string): void => {
  const code = (source: string) => !source.includes('__pycache__');
  cpSync(join(PROJECT_ROOT, 'python', 'blast_tasks'), join(outputDir, 'blast_tasks'), { recursive: true, filter: code });
  mkdirSync(join(outputDir, dirname(file)), { recursive: true });
  cpSync(join(PROJECT_ROOT, dirname(file)), join(outputDir, dirname(file)), { recursive: true, filter: code });
};

export interface PythonRunnerFunctionProps {
  readonly runner: PythonTransientRunner;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays | undefined;
}

export class PythonRunnerFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: PythonRunnerFunctionProps) {
    super(scope, id);
    const { runner } = props;
    const { file, className } = runner.python;
    ({ logGroup: this.logGroup, role: this.role } = ownLogsAndRole(this, runnerLabel(runner), props.logRetention));
    this.function = new LambdaFunction(this, 'Function', {
      runtime: PYTHON_RUNTIME,
      architecture: PYTHON_ARCHITECTURE,
      handler: PYTHON_HANDLER,
      layers: [PythonPackagesLayer.of(this).layer],
      code: Code.fromAsset(join(PROJECT_ROOT, 'python'), {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never used: the local bundling below always succeeds (synth runs no Docker).
          image: DockerImage.fromRegistry('public.ecr.aws/lambda/python:3.13'),
          local: new LocalBundling({ file }, (outputDir) => copyPythonRunnerCode(outputDir, file)),
        },
      }),
      memorySize: runner.memorySize,
      timeout: Duration.seconds(runner.python.timeoutSeconds),
      description: `Blast Python runner "${runner.taskName}" (${className} in ${file})`,
      role: this.role,
      logGroup: this.logGroup,
      environment: { BLAST_RUNNER_FILE: file, BLAST_RUNNER_CLASS: className },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: `Python ${PYTHON_RUNTIME.name} is the runtime the Python runners are written and tested for; a newer one is a deliberate upgrade, tested first.`,
    });
  }
}
