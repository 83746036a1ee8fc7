/**
 * What a Blast maintainer does with the seed's example class, in a copy of the project as they would have it: the
 * class pasted from the docs into a file of runners/python/, `npm run generate`, the registry's line for its task
 * swapped for `pythonRunner(...)`, `npm run validate`, then `npm start` over two of Blast's example transients.
 * The class runs in Python as the task's runner, and its status is recorded as any runner's; since it saves no
 * output (its body is the docs' `...`), the later task that reads Transient MWEBV's output fails, and says why.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { waitFor } from '../helpers/local-stack';
import { signalGroup } from '../helpers/cli-process';

const EXAMPLES = ['2010H', '2010ag'];
const FILE = 'runners/python/seed_example.py';
const TASK = 'Transient MWEBV';

/** The first Python block of the docs' "Writing a runner in Python" section: the seed's example as the docs show it. */
const exampleFromDocs = (): string => {
  const docs = readFileSync('docs/writing-runners.md', 'utf8');
  const section = docs.slice(docs.indexOf('## Writing a runner in Python'));
  const block = /```python\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('docs/writing-runners.md shows no Python example');
  return block;
};

/** `npm <args>` in the project, its output collected; `exit` resolves with its code, `stop` sends Ctrl-C. */
const npm = (project: string, args: readonly string[]) => {
  const child = spawn('npm', args, { cwd: project, env: { ...process.env, NO_COLOR: '1' }, detached: true });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  return { exit, output: () => output, stop: () => signalGroup(child, 'SIGINT') };
};

describe('Integration: the seed example class, pasted into a file, through npm start', () => {
  let project: string;

  beforeAll(() => {
    // The project's tracked files, with its installed node_modules and Python environment beside them.
    project = mkdtempSync(join(tmpdir(), 'blast-project-'));
    const tracked = spawnSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).stdout.split('\0').filter(Boolean);
    for (const file of tracked) {
      mkdirSync(dirname(join(project, file)), { recursive: true });
      copyFileSync(file, join(project, file));
    }
    symlinkSync(resolve('node_modules'), join(project, 'node_modules'));
    if (existsSync('.venv')) symlinkSync(resolve('.venv'), join(project, '.venv'));
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('validates and runs it as the task\'s runner: generate, one registry line, validate, start', async () => {
    // Prepare: paste, generate, register in place of the task's runner
    writeFileSync(join(project, FILE), exampleFromDocs());
    const generated = npm(project, ['run', 'generate']);
    expect(await generated.exit, generated.output()).toBe(0);
    expect(readFileSync(join(project, 'lib/generated/python-runners.ts'), 'utf8')).toContain(`"className": "ExampleTaskRunner"`);
    const registryFile = join(project, 'runners/registry.ts');
    const lines = readFileSync(registryFile, 'utf8').split('\n');
    const taskLine = lines.findIndex((line) => /^\s+(new TransientMwebv\(\)|pythonRunner\('[^']+', 'TransientMWEBV'\)),$/.test(line));
    expect(taskLine).toBeGreaterThan(0);
    lines[taskLine] = `  pythonRunner('${FILE}', 'ExampleTaskRunner'),`;
    if (!lines.some((line) => line.includes("from './python-runner'"))) lines.unshift("import { pythonRunner } from './python-runner';");
    writeFileSync(registryFile, lines.join('\n'));
    const validated = npm(project, ['run', 'validate']);
    expect(await validated.exit, validated.output()).toBe(0);
    // Two of the sample transients, as a file of Blast's shape.
    const transients = join(project, 'examples.yaml');
    const { transients: all } = z.looseObject({ transients: z.array(z.looseObject({ name: z.string() })) }).parse(parse(readFileSync('fixtures/sample_transients.yaml', 'utf8')));
    writeFileSync(transients, stringify({ transients: all.filter((transient) => EXAMPLES.includes(transient.name)) }));

    // Act: start it, kept running for the operator's commands, and look at each transient
    const started = npm(project, ['start', '--', '--transients', transients, '--tick', '300', '--timeout', '240', '--keep-running']);
    const up = await Promise.race([waitFor('the pipeline to finish', async () => started.output().includes('still running (--keep-running)'), 300_000), started.exit]);
    const statuses = [];
    try {
      expect(up, started.output()).toBe(true);
      for (const name of EXAMPLES) {
        const status = npm(project, ['run', 'cli', '--', 'status', name]);
        expect(await status.exit, status.output()).toBe(0);
        statuses.push(status.output());
      }
    } finally {
      started.stop();
      await started.exit;
    }

    // Assess: the pasted class ran in Python as the task's runner, and its status was recorded on each transient
    expect(started.output()).toMatch(/all 2 transients finished/);
    for (const output of statuses) {
      expect(output).toMatch(new RegExp(`${TASK}\\s+processed`));
      // The seed's class computes and saves nothing (its body is `...`): the task that reads its output says so.
      expect(output).toContain(`"${TASK}" is processed but saved no output for this transient`);
    }
  }, 600_000);
});
