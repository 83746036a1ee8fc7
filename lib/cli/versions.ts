/**
 * TypeScript runners' code versions: `npm run generate` hashes the source file of each transient runner class of
 * the registry into lib/generated/runner-sources.ts, which the registry reads (runners/versions.ts) to give a runner
 * that declares no `version` the hash of its code. The generated module is the one source both the local runtime and
 * the bundled functions read, so they agree; `npm run validate` says when a runner file changed since.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AnyRunner, isPythonRunner, isTransientRunner } from '../runner';
import { fileSha256 } from '../python/requirements';

export const RUNNERS_DIR = 'runners';
export const GENERATED_RUNNER_SOURCES_MODULE = 'lib/generated/runner-sources.ts';

/** A runner's source file and its SHA-256, by task. */
export type RunnerSources = Readonly<Record<string, { readonly file: string; readonly sha256: string }>>;

/**
 * The source file of each TypeScript transient runner of `runners`: the file of `dir` (not its subfolders) that
 * exports the runner's class. A runner whose class no file there exports (a test's) is left out.
 */
export const readRunnerSources = async (runners: readonly AnyRunner[], dir = RUNNERS_DIR): Promise<RunnerSources> => {
  const wanted = runners.filter((runner) => isTransientRunner(runner) && !isPythonRunner(runner));
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .map((name) => join(dir, name));
  const sources: Record<string, { file: string; sha256: string }> = {};
  for (const file of files) {
    const exported = Object.values((await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>);
    for (const runner of wanted) {
      if (sources[runner.taskName] === undefined && exported.includes(runner.constructor)) sources[runner.taskName] = { file, sha256: fileSha256(file) };
    }
  }
  return Object.fromEntries(Object.keys(sources).sort().map((task) => [task, sources[task] as { file: string; sha256: string }]));
};

export const renderRunnerSources = (sources: RunnerSources): string =>
  `// Generated from ${RUNNERS_DIR}/*.ts by \`npm run generate\`; do not edit.\n\n` +
  `/** Each TypeScript transient runner's source file and its SHA-256, by task: the code version of a runner that declares none. */\n` +
  `export const runnerSources: Readonly<Record<string, { readonly file: string; readonly sha256: string }>> = ${JSON.stringify(sources, null, 2)};\n`;

/** The runner files changed since their hashes were generated, each in one line. */
export const staleRunnerSources = (generated: RunnerSources): string[] =>
  Object.entries(generated).flatMap(([task, { file, sha256 }]) => {
    try {
      return fileSha256(file) === sha256 ? [] : [`${file} (${task}) changed since ${GENERATED_RUNNER_SOURCES_MODULE} was generated`];
    } catch {
      return [`${file} (${task}) is gone since ${GENERATED_RUNNER_SOURCES_MODULE} was generated`];
    }
  });
