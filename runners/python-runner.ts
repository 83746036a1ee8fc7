/**
 * Registers a runner written in Python (runners/python/): `pythonRunner('runners/python/example_runner.py',
 * 'ExampleTaskRunner')` in the registry. Its declaration is the one `npm run generate` read from the class; a
 * class it has not read, or could not, is reported by the registry's validation with the reason.
 */
import { pythonRunnerDeclarations } from '../lib/generated/python-runners';
import { type PythonDeclaration, PythonTransientRunner } from '../lib/runner';

/** The runner `className` of `file` as `declarations` describe it. */
export const pythonRunnerFrom = (declarations: readonly PythonDeclaration[], file: string, className: string): PythonTransientRunner => {
  const ofFile = declarations.filter((entry) => entry.file === file);
  // A problem of the whole file (it does not import) is every one of its classes' problem.
  const declared = ofFile.find((entry) => entry.className === className) ?? ofFile.find((entry) => entry.className === '' && entry.problem);
  if (declared) return new PythonTransientRunner({ ...declared, className });
  const problem =
    ofFile.length > 0
      ? `${file} defines no TransientTaskRunner class ${className} (it defines ${ofFile.map((entry) => entry.className).join(', ')})`
      : 'its declaration has not been read from the class: run `npm run generate`';
  return new PythonTransientRunner({ file, className, problem });
};

export const pythonRunner = (file: string, className: string): PythonTransientRunner =>
  pythonRunnerFrom(pythonRunnerDeclarations as readonly PythonDeclaration[], file, className);
