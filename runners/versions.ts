/**
 * Gives each transient runner that declares no `version` its code's: the hash of its source file, as `npm run
 * generate` recorded it (lib/generated/runner-sources.ts for TypeScript, lib/generated/python-runners.ts for Python).
 * The registry applies it, so the local runtime, the CLI and the bundled functions all read the same versions.
 */
import { pythonSourceHashes } from '../lib/generated/python-runners';
import { runnerSources } from '../lib/generated/runner-sources';
import { VERSION_HASH_LENGTH } from '../lib/domain/declaration';
import { type AnyRunner, isPythonRunner, isTransientRunner } from '../lib/runner';

/** The hash of a runner's code, as generated; undefined for a runner whose file was not read. */
export const codeHashOf = (runner: AnyRunner): string | undefined => {
  if (!isTransientRunner(runner)) return undefined;
  return isPythonRunner(runner) ? pythonSourceHashes[runner.python.file] : runnerSources[runner.taskName]?.sha256;
};

/** `runners`, each without a declared version given its code's hash as one. */
export const withCodeVersions = <T extends readonly AnyRunner[]>(runners: T): T => {
  for (const runner of runners) {
    const hash = codeHashOf(runner);
    if (isTransientRunner(runner) && runner.version === undefined && hash !== undefined) Object.assign(runner, { version: hash.slice(0, VERSION_HASH_LENGTH) });
  }
  return runners;
};
