/**
 * Python runners' declarations: read from the classes by Python (python/blast_tasks/describe.py), found by the
 * registry line, validated with every other runner with the file and the class named in each problem, and
 * reported as stale when a file changed since `npm run generate`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateRegistry } from '../../lib/domain/validation';
import { loadCatalog } from '../../lib/fixtures/load-catalog';
import { GENERATED_PYTHON_MODULE, describePythonRunners, pythonRunnerFiles, readPythonRunners, renderPythonDeclarations, sourceHash, stalePythonSources } from '../../lib/python/declarations';
import { pythonRunnerDeclarations, pythonSourceHashes } from '../../lib/generated/python-runners';
import { PythonTransientRunner, RunsInItsOwnFunctionError } from '../../lib/runner';
import { registry } from '../../runners/registry';
import { pythonRunner, pythonRunnerFrom } from '../../runners/python-runner';

const folder = () => mkdtempSync(join(tmpdir(), 'python-declarations-'));
const write = (dir: string, name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const EXAMPLE = 'runners/python/example_runner.py';
const catalog = loadCatalog('fixtures');
/** The real registry with Transient MWEBV's TypeScript runner swapped for `python`. */
const withPython = (python: PythonTransientRunner) => [...registry.filter((runner) => runner.taskName !== python.taskName), python];

describe('Function: describePythonRunners', () => {
  it("reads the seed's four members and the settings the class overrides, and nothing else", () => {
    const dir = folder();
    const file = write(
      dir,
      'measure.py',
      `from blast_tasks import TransientTaskRunner
import math

def helper():
    return 1

class Measure(TransientTaskRunner):
    timeout_seconds = 300
    memory_size = 2048

    def _prerequisites(self):
        return {"Host match": "processed", "Global aperture photometry": "not processed"}

    @property
    def task_name(self):
        return "Global aperture photometry"

    def _failed_status_message(self):
        return "failed"

    def _run_process(self, transient):
        return "processed"
`,
    );
    expect(describePythonRunners([file])).toEqual([
      {
        file,
        className: 'Measure',
        taskName: 'Global aperture photometry',
        prerequisites: { 'Host match': 'processed', 'Global aperture photometry': 'not processed' },
        failedStatusMessage: 'failed',
        settings: { memorySize: 2048, timeoutSeconds: 300 },
      },
    ]);
  });

  it.each([
    ['a file that does not import', 'import not_a_module\n', /importing it raised ModuleNotFoundError: No module named 'not_a_module'/],
    ['a file with no runner class', 'x = 1\n', /defines no TransientTaskRunner class/],
  ])('reports %s, naming the file', (_case, text, problem) => {
    const file = write(folder(), 'broken.py', text);
    const [entry] = describePythonRunners([file]);
    expect(entry).toMatchObject({ file, problem: expect.stringMatching(problem) });
    const runner = pythonRunnerFrom(describePythonRunners([file]), file, 'Anything');
    expect(validateRegistry(catalog, [...registry, runner]).issues).toEqual([expect.stringContaining(`Python runner Anything in ${file}: `)]);
  });

  it.each([
    ['a missing member', 'class Half(TransientTaskRunner):\n    task_name = "Host match"\n    def _prerequisites(self):\n        return {}\n', /TypeError: Can't instantiate abstract class Half/],
    [
      'a task name that is not a string',
      'class Half(TransientTaskRunner):\n    task_name = 7\n    def _prerequisites(self):\n        return {}\n    def _run_process(self, t):\n        return "processed"\n',
      /task_name is int, not a string/,
    ],
    [
      'prerequisites that are not a dict of strings',
      'class Half(TransientTaskRunner):\n    task_name = "Host match"\n    def _prerequisites(self):\n        return ["Cutout download"]\n    def _run_process(self, t):\n        return "processed"\n',
      /_prerequisites\(\) must return a dict/,
    ],
    [
      'a member that raises',
      'class Half(TransientTaskRunner):\n    @property\n    def task_name(self):\n        raise RuntimeError("no name yet")\n    def _prerequisites(self):\n        return {}\n    def _run_process(self, t):\n        return "processed"\n',
      /RuntimeError: no name yet/,
    ],
  ])('reports %s, naming the file and the class', (_case, body, problem) => {
    const file = write(folder(), 'half.py', `from blast_tasks import TransientTaskRunner\n\n${body}`);
    const [entry] = describePythonRunners([file]);
    expect(entry).toMatchObject({ file, className: 'Half', problem: expect.stringMatching(problem) });
    const issues = validateRegistry(catalog, withPython(pythonRunnerFrom([entry!], file, 'Half'))).issues;
    expect(issues.find((issue) => issue.startsWith(`Python runner Half in ${file}: `))).toMatch(problem);
  });
});

describe('Function: validateRegistry, over Python runners', () => {
  it('validates the example as every other runner, in place of the TypeScript runner of its task', () => {
    expect(validateRegistry(catalog, withPython(pythonRunner(EXAMPLE, 'ExampleTaskRunner'))).issues).toEqual([]);
  });

  it('names the Python file and class of an unknown task, an unknown status, a failed status that is not an error, and a cycle', () => {
    const file = write(
      folder(),
      'wrong.py',
      `from blast_tasks import TransientTaskRunner

class Wrong(TransientTaskRunner):
    task_name = "Host match"

    def _prerequisites(self):
        return {"Host match": "not processed", "Host information": "processed", "Cutout download": "done"}

    def _failed_status_message(self):
        return "processed"

    def _run_process(self, transient):
        return "processed"
`,
    );
    const issues = validateRegistry(catalog, withPython(pythonRunnerFrom(describePythonRunners([file]), file, 'Wrong'))).issues;
    const label = `Python runner Wrong in ${file} ("Host match")`;
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${label.replace(/[()]/g, '\\$&')}, field prerequisites: unknown status "done"`)),
        expect.stringMatching(new RegExp(`^${label.replace(/[()]/g, '\\$&')}, field failedStatusMessage: `)),
        expect.stringMatching(/cycle/),
      ]),
    );
  });

  it("keeps timeout_seconds within Lambda's limit less the margin its worker waits beyond it", () => {
    const file = write(
      folder(),
      'long.py',
      'from blast_tasks import TransientTaskRunner\n\nclass Long(TransientTaskRunner):\n    task_name = "Transient MWEBV"\n    timeout_seconds = 890\n' +
        '    def _prerequisites(self):\n        return {"Cutout download": "processed"}\n    def _run_process(self, t):\n        return "processed"\n',
    );
    const long = pythonRunnerFrom(describePythonRunners([file]), file, 'Long');
    expect(long.python.timeoutSeconds).toBe(890);
    expect(validateRegistry(catalog, withPython(long)).issues).toEqual([
      `Python runner Long in ${file} ("Transient MWEBV"), field timeout_seconds: 890 is outside 1–885 (Lambda's 900 s, less the 15 s its worker waits beyond it)`,
    ]);
  });

  const containerClass = (settings: string) =>
    write(
      folder(),
      'sed.py',
      'from blast_tasks import TransientTaskRunner\n\nclass Sed(TransientTaskRunner):\n    task_name = "Transient MWEBV"\n    compute = "container"\n' +
        settings +
        '    def _prerequisites(self):\n        return {"Cutout download": "processed"}\n    def _run_process(self, t):\n        return "processed"\n',
    );

  it('lets a Python class run in a container for hours, its timeout the run\'s own (no worker margin)', () => {
    const file = containerClass('    timeout_seconds = 4 * 3600\n    heartbeat_seconds = 30\n    memory_size = 8192\n');
    const sed = pythonRunnerFrom(describePythonRunners([file]), file, 'Sed');
    expect(sed).toMatchObject({ compute: 'container', timeoutSeconds: 4 * 3600, heartbeatSeconds: 30, memorySize: 8192, python: { timeoutSeconds: 4 * 3600 } });
    expect(validateRegistry(catalog, withPython(sed)).issues).toEqual([]);
  });

  it('names the Python file, the class and its own field for a container setting Fargate or SQS refuses', () => {
    const file = containerClass('    timeout_seconds = 12 * 3600\n    heartbeat_seconds = 0\n    memory_size = 1536\n');
    const label = `Python runner Sed in ${file} ("Transient MWEBV")`;
    expect(validateRegistry(catalog, withPython(pythonRunnerFrom(describePythonRunners([file]), file, 'Sed'))).issues).toEqual([
      `${label}, field timeout_seconds: 43200 is outside 1–39600 (a container run's message stays in flight at most 12 hours in SQS)`,
      `${label}, field heartbeat_seconds: 0 is outside 1–600`,
      `${label}, field memory_size: 1536 MB is not a Fargate task's memory (512, or whole GB from 1 to 30)`,
    ]);
  });

  it('reports a class the generated declarations do not have, with what to run', () => {
    const runner = pythonRunner('runners/python/new_runner.py', 'NewRunner');
    expect(validateRegistry(catalog, [...registry, runner]).issues).toEqual([
      'Python runner NewRunner in runners/python/new_runner.py: its declaration has not been read from the class: run `npm run generate`',
    ]);
    expect(() => runner.process()).toThrow(RunsInItsOwnFunctionError);
  });
});

describe('Generated declarations', () => {
  it('are what the Python files declare now', () => {
    const current = readPythonRunners();
    expect(readFileSync(GENERATED_PYTHON_MODULE, 'utf8')).toBe(renderPythonDeclarations(current));
    expect(pythonRunnerDeclarations.map((entry) => entry.file)).toContain(EXAMPLE);
    expect(stalePythonSources(pythonSourceHashes)).toEqual([]);
  });

  it('go stale when a file is added, changed or removed, each said in one line', () => {
    const dir = folder();
    const kept = write(dir, 'kept.py', 'x = 1\n');
    const changed = write(dir, 'changed.py', 'x = 1\n');
    const hashes = { [kept]: sourceHash(kept), [changed]: sourceHash(changed), [join(dir, 'gone.py')]: 'abc' };
    write(dir, 'changed.py', 'x = 2\n');
    const added = write(dir, 'added.py', 'x = 3\n');
    expect(pythonRunnerFiles(dir)).toEqual([added, changed, kept]);
    expect(stalePythonSources(hashes, dir)).toEqual([
      `${added} is new since ${GENERATED_PYTHON_MODULE} was generated`,
      `${changed} changed since ${GENERATED_PYTHON_MODULE} was generated`,
      `${join(dir, 'gone.py')} is gone since ${GENERATED_PYTHON_MODULE} was generated`,
    ]);
  });
});
