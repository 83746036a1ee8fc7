/**
 * What system runners use besides the engine: secrets (Secrets Manager by ARN, else the environment) and the
 * scratch data. Built once per container by the system-worker entry, like the engine; kept out of
 * lib/bootstrap/create-engine.ts so the transient functions' bundles carry no S3 or Secrets Manager client.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../settings/config';
import type { SystemServices } from '../engine/system';
import { scratchStore } from '../scratch/scratch-store';
import { secretSource } from '../secrets/secret-source';

export const createSystemServices = (
  config: Config,
  environment: Readonly<Record<string, string | undefined>>,
  options: { readonly s3?: () => S3Client } = {},
): SystemServices => ({
  secrets: secretSource(config.secretArns ?? {}, environment),
  ...(config.scratchLocation ? { scratch: scratchStore(config.scratchLocation, options.s3) } : {}),
});
