/**
 * Python runners' declarations, read from the classes themselves: `npm run generate` runs
 * python/blast_tasks/describe.py over runners/python/*.py and writes what it read, with each file's hash, to
 * lib/generated/python-runners.ts, which the registry, the stack and the functions read (none of them needs
 * Python). `npm run validate` says when a file changed since.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { PythonDeclaration } from '../runner';
import { PYTHON_PACKAGE_DIR, runPython } from './interpreter';
import { fileSha256 } from './requirements';

export const PYTHON_RUNNERS_DIR = 'runners/python';
export const GENERATED_PYTHON_MODULE = 'lib/generated/python-runners.ts';

const declarationSchema = z.object({
  file: z.string(),
  className: z.string().optional(),
  taskName: z.string().optional(),
  prerequisites: z.record(z.string(), z.string()).optional(),
  failedStatusMessage: z.string().optional(),
  settings: z.record(z.string(), z.union([z.number(), z.boolean(), z.string(), z.array(z.string())])).optional(),
  problem: z.string().optional(),
});

/** The Python runner files of a folder, in name order, as paths relative to the project. */
export const pythonRunnerFiles = (dir = PYTHON_RUNNERS_DIR): string[] => {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.py') && !name.startsWith('_'))
      .sort()
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
};

/** A runner file's hash, kept in the generated module to tell when the file changed since. */
export const sourceHash = fileSha256;

/** What each runner class of `files` declares, read by Python from the classes themselves. */
export const describePythonRunners = (files: readonly string[]): PythonDeclaration[] => {
  if (files.length === 0) return [];
  const output = runPython(['-m', 'blast_tasks.describe', ...files], `reading the Python runners (${files.join(', ')})`);
  return z
    .array(declarationSchema)
    .parse(JSON.parse(output))
    .map((entry) => ({ ...entry, className: entry.className ?? '' }) as PythonDeclaration);
};

export interface GeneratedPython {
  readonly declarations: readonly PythonDeclaration[];
  readonly hashes: Readonly<Record<string, string>>;
}

/** The module `npm run generate` writes: the declarations and each file's hash. */
export const renderPythonDeclarations = ({ declarations, hashes }: GeneratedPython): string =>
  `// Generated from ${PYTHON_RUNNERS_DIR}/*.py by \`npm run generate\` (${PYTHON_PACKAGE_DIR}/blast_tasks/describe.py); do not edit.\n\n` +
  `/** What a class declares, as describe.py reports it (read as lib/runner.ts's PythonDeclaration). */\n` +
  `interface GeneratedDeclaration {\n  readonly file: string;\n  readonly className: string;\n  readonly taskName?: string;\n  readonly prerequisites?: Readonly<Record<string, string>>;\n  readonly failedStatusMessage?: string;\n  readonly settings?: Readonly<Record<string, number | boolean | string | readonly string[]>>;\n  readonly problem?: string;\n}\n\n` +
  `export const pythonRunnerDeclarations: readonly GeneratedDeclaration[] = ${JSON.stringify(declarations, null, 2)};\n\n` +
  `export const pythonSourceHashes: Readonly<Record<string, string>> = ${JSON.stringify(hashes, null, 2)};\n`;

/** Reads every Python runner file of the folder: what `npm run generate` writes. */
export const readPythonRunners = (dir = PYTHON_RUNNERS_DIR): GeneratedPython => {
  const files = pythonRunnerFiles(dir);
  return { declarations: describePythonRunners(files), hashes: Object.fromEntries(files.map((file) => [file, sourceHash(file)])) };
};

/** The Python files added, changed or removed since their declarations were generated, each in one line. */
export const stalePythonSources = (generated: Readonly<Record<string, string>>, dir = PYTHON_RUNNERS_DIR): string[] => {
  const files = pythonRunnerFiles(dir);
  return [
    ...files.filter((file) => generated[file] === undefined).map((file) => `${file} is new since ${GENERATED_PYTHON_MODULE} was generated`),
    ...files.filter((file) => generated[file] !== undefined && generated[file] !== sourceHash(file)).map((file) => `${file} changed since ${GENERATED_PYTHON_MODULE} was generated`),
    ...Object.keys(generated).filter((file) => !files.includes(file)).map((file) => `${file} is gone since ${GENERATED_PYTHON_MODULE} was generated`),
  ];
};
