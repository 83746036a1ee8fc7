/**
 * local-aws-sqs 2.0.2 differs from SQS in three ways the runtime depends on; patches/local-aws-sqs+2.0.2.patch
 * corrects them when `npm install` (or `npm ci`) runs patch-package, and patches/README.md explains each fix.
 * The patched bundle marks each fix with a `PATCH(name)` comment, so an emulator installed without them (a
 * skipped install script, a copied node_modules) is refused before it serves a request.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TaskRunnerError } from '../domain/errors';

/** local-aws-sqs is installed without the corrections of patches/. */
export class EmulatorNotPatchedError extends TaskRunnerError {}

/** The fixes of patches/local-aws-sqs+2.0.2.patch, by the name of their marker. */
export const EmulatorFix = {
  ReceiveCount: 'receive-count',
  AbandonedLongPoll: 'abandoned-long-poll',
  PartialBatch: 'partial-batch',
} as const;
export type EmulatorFix = (typeof EmulatorFix)[keyof typeof EmulatorFix];

/** The fixes whose marker the emulator's bundle lacks. */
export const missingEmulatorFixes = (bundle: string): EmulatorFix[] =>
  Object.values(EmulatorFix).filter((fix) => !bundle.includes(`PATCH(${fix})`));

/** The source of the local-aws-sqs bundle that `import 'local-aws-sqs'` loads. */
export const installedEmulatorBundle = (): string =>
  readFileSync(createRequire(import.meta.url).resolve('local-aws-sqs'), 'utf8');

/** Throws EmulatorNotPatchedError, naming the missing fixes and the command that applies them. */
export const assertEmulatorPatched = (bundle: string = installedEmulatorBundle()): void => {
  const missing = missingEmulatorFixes(bundle);
  if (missing.length > 0) {
    throw new EmulatorNotPatchedError(
      `local-aws-sqs is installed without its corrections (${missing.join(', ')}; see patches/README.md): ` +
        'run `npm install` to apply patches/local-aws-sqs+2.0.2.patch',
    );
  }
};
