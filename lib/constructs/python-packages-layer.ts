/**
 * The Python runners' third-party packages (python/requirements.txt) as one Lambda layer per stack, shared by
 * every Python runner's function: pip installs the lock's wheels for Lambda's Python and architecture at synth,
 * without Docker (lib/python/lambda-packages.ts, cached by the lock's hash), into the layer's `python/`
 * folder, which Lambda's Python runtime puts on sys.path. The asset's hash is the lock's, so an unchanged lock
 * uploads nothing new.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { AssetHashType, DockerImage, Stack } from 'aws-cdk-lib';
import type { AssetOptions } from 'aws-cdk-lib/aws-s3-assets';
import { Architecture, Code, LayerVersion } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { LAMBDA_PACKAGES_CACHE, type LambdaTarget, lambdaPackages } from '../python/lambda-packages';
import { REQUIREMENTS_LOCK, lockHash } from '../python/requirements';
import { PROJECT_ROOT } from './handler-function';
import { PYTHON_ARCHITECTURE, PYTHON_RUNTIME } from './python-runtime';

/** What pip installs for: Lambda's Python version and machine of the Python runners' functions. */
export const LAMBDA_PYTHON_TARGET: LambdaTarget = {
  pythonVersion: PYTHON_RUNTIME.name.replace('python', ''),
  machine: PYTHON_ARCHITECTURE === Architecture.ARM_64 ? 'aarch64' : 'x86_64',
};

const ID = 'PythonPackages';

/**
 * The asset of the lock's packages, installed for Lambda's Python and machine into its `python/` folder: the layer's
 * code, and what a Python container run puts on its PYTHONPATH (lib/constructs/container-runner.ts). Its hash is the
 * lock's, so the two share one upload.
 */
export const pythonPackagesAssetOptions = (): AssetOptions => {
  const lockFile = join(PROJECT_ROOT, REQUIREMENTS_LOCK);
  return {
    assetHashType: AssetHashType.CUSTOM,
    assetHash: `${lockHash(lockFile)}-${LAMBDA_PYTHON_TARGET.machine}`,
    // Without bundling (template tests) the asset is the folder of the requirements files.
    bundling: {
      // Never used: the local bundling below always succeeds or throws (synth runs no Docker).
      image: DockerImage.fromRegistry(`public.ecr.aws/lambda/python:${LAMBDA_PYTHON_TARGET.pythonVersion}`),
      local: {
        tryBundle(outputDir: string) {
          const packages = lambdaPackages(LAMBDA_PYTHON_TARGET, { lockFile, cacheDir: join(PROJECT_ROOT, LAMBDA_PACKAGES_CACHE) });
          cpSync(packages, join(outputDir, 'python'), { recursive: true });
          return true;
        },
      },
    },
  };
};

export class PythonPackagesLayer extends Construct {
  /** The stack's one layer, made by the first Python runner's function that asks. */
  static of(scope: Construct): PythonPackagesLayer {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(ID) as PythonPackagesLayer | undefined) ?? new PythonPackagesLayer(stack, ID);
  }

  readonly layer: LayerVersion;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.layer = new LayerVersion(this, 'Layer', {
      description: `Blast Python runners' packages from ${REQUIREMENTS_LOCK} (Python ${LAMBDA_PYTHON_TARGET.pythonVersion}, ${LAMBDA_PYTHON_TARGET.machine})`,
      compatibleRuntimes: [PYTHON_RUNTIME],
      compatibleArchitectures: [PYTHON_ARCHITECTURE],
      code: Code.fromAsset(join(PROJECT_ROOT, 'python'), pythonPackagesAssetOptions()),
    });
  }
}
