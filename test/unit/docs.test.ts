/**
 * The docs as a reader follows them: every link leads somewhere, the README stays a quickstart that links every
 * page, every CLI command shown is one the CLI's own program accepts, and the secret the deploy page tells an
 * operator to create is one the code can read. Which integration test runs each command: docs/testing.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { CommanderError } from 'commander';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { program } from '../../bin/cli';
import { registry } from '../../runners/registry';
import { secretSource } from '../../lib/secrets/secret-source';
import { TNS_SECRET_NAME, parseTnsCredentials, tnsCredentialKeys } from '../../runners/tns/credentials';
import { OPERATORS_GROUP } from '../../lib/settings/web-view';
import { WebViewOutput } from '../../lib/stacks/outputs';
import { README, allPages, anchors, docsPages, read, relativeLinks, shownCommands } from '../helpers/docs';

const README_MAX_BYTES = 15_000;

const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

/** A command the docs show, as the program it runs and the arguments it gets. */
interface Invocation {
  readonly shown: string;
  readonly page: string;
  /** The npm script it runs (`cli` for `./bin/cli.ts`); undefined when it runs none of the project's. */
  readonly script: string | undefined;
  readonly args: readonly string[];
  /** What is wrong with the way it is written, before its program sees it. */
  readonly problem?: string;
}

const invocation = (page: string, words: readonly string[]): Invocation => {
  const shown = words.join(' ');
  const [first, second, third, ...rest] = words;
  if (first === './bin/cli.ts') return { shown, page, script: 'cli', args: words.slice(1) };
  if (first !== 'npm' || second === undefined || ['install', 'ci'].includes(second)) return { shown, page, script: undefined, args: [] };
  const [script, after] = second === 'run' ? [third, rest] : [second, third === undefined ? [] : [third, ...rest]];
  const separator = after.indexOf('--');
  const beforeSeparator = separator < 0 ? after : after.slice(0, separator);
  return {
    shown,
    page,
    script,
    args: separator < 0 ? after : after.slice(separator + 1),
    ...(beforeSeparator.length > 0 ? { problem: `npm would take ${beforeSeparator.join(' ')} itself: put it after --` } : {}),
  };
};

const invocations = allPages().flatMap((page) => shownCommands(read(page)).map((words) => invocation(page, words)));

/** The arguments `bin/cli.ts` gets from a script, e.g. `start` for `npm start`; undefined for other programs. */
const cliArguments = (script: string): string[] | undefined => {
  const words = scripts[script]?.split(/\s+/) ?? [];
  const at = words.indexOf('bin/cli.ts');
  return at < 0 ? undefined : words.slice(at + 1);
};

const PARSED = new Error('parsed: the action would run now');

/**
 * What the CLI's commander program says of these arguments: undefined when it would run a command (or show
 * its help), else its error. Nothing is run: a hook stops every command just before its action.
 */
const parseProblem = async (args: readonly string[]): Promise<string | undefined> => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return 'parsed without reaching a command';
  } catch (error) {
    if (error === PARSED) return undefined;
    if (error instanceof CommanderError) return error.exitCode === 0 ? undefined : error.message;
    throw error;
  } finally {
    vi.restoreAllMocks();
  }
};

describe('Docs: links', () => {
  it.each(allPages())('every relative link of %s leads to a file, and to a heading of it', (page) => {
    // Act
    const broken = relativeLinks(read(page)).flatMap(({ text, path, anchor }) => {
      const target = path === '' ? page : normalize(join(dirname(page), decodeURI(path)));
      if (!existsSync(target)) return [`[${text}](${path}): no file ${target}`];
      const targetText = statSync(target).isFile() && target.endsWith('.md') ? read(target) : undefined;
      if (anchor !== undefined && targetText !== undefined && !anchors(targetText).has(anchor)) return [`[${text}](${path}#${anchor}): no such heading in ${target}`];
      return [];
    });

    // Assess
    expect(broken).toEqual([]);
  });

  it('finds the headings GitHub links to, as GitHub spells their anchors', () => {
    const markdown = '# Operating it: the CLI\n## dlq list and dlq redrive\n```sh\n# not a heading\n```\n## Secrets\n## Secrets\n';

    expect([...anchors(markdown)]).toEqual(['operating-it-the-cli', 'dlq-list-and-dlq-redrive', 'secrets', 'secrets-1']);
  });
});

describe('Docs: the README', () => {
  it(`is at most ${README_MAX_BYTES.toLocaleString('en')} bytes: what it is, how to run it, where to read more`, () => {
    expect(statSync(README).size).toBeLessThanOrEqual(README_MAX_BYTES);
  });

  it('links every page of docs/', () => {
    // Prepare
    const linked = new Set(relativeLinks(read(README)).map(({ path }) => normalize(path)));

    // Assess
    expect(docsPages().length).toBeGreaterThan(0);
    expect(docsPages().filter((page) => !linked.has(page))).toEqual([]);
  });
});

describe('Docs: the CLI commands shown', () => {
  beforeAll(() => {
    program.hook('preAction', () => {
      throw PARSED;
    });
  });
  afterEach(() => vi.restoreAllMocks());

  const cliCommands = invocations.filter(({ script }) => script !== undefined && cliArguments(script) !== undefined);

  it('are found wherever the docs show them: sh blocks, `$ ` lines and inline code', () => {
    expect(cliCommands.map(({ shown }) => shown)).toEqual(
      expect.arrayContaining(['npm start', 'npm run cli -- --help', 'npm run cli -- dlq redrive Cutout download 2025abh', 'npm start -- --chaos 42']),
    );
    expect(cliCommands.map(({ page }) => page)).toEqual(expect.arrayContaining([README, 'docs/operating.md', 'docs/running-locally.md']));
  });

  it('are written so that npm passes their arguments on', () => {
    expect(invocations.filter(({ problem }) => problem !== undefined).map(({ page, shown, problem }) => `${page}: ${shown}: ${problem}`)).toEqual([]);
  });

  it("parse as commands and options of the CLI's own program (bin/cli.ts)", async () => {
    // Act
    const problems: string[] = [];
    for (const { page, shown, script, args } of cliCommands) {
      const problem = await parseProblem([...(cliArguments(script ?? '') ?? []), ...args]);
      if (problem !== undefined) problems.push(`${page}: ${shown}: ${problem}`);
    }

    // Assess
    expect(problems).toEqual([]);
  });

  it('would be refused if they named a command or option the CLI does not have', async () => {
    await expect(parseProblem(['start', '--ticks', '500'])).resolves.toMatch(/unknown option '--ticks'/);
    await expect(parseProblem(['dlq', 'relist', 'Host match'])).resolves.toMatch(/unknown command 'relist'/);
    await expect(parseProblem(['list', '--status', 'done'])).resolves.toMatch(/Allowed choices are processing, blocked, completed/);
    await expect(parseProblem(['status'])).resolves.toMatch(/missing required argument 'name'/);
    await expect(parseProblem(['status', '2010ai'])).resolves.toBeUndefined();
  });

  it('give `npm run bench` only options its --help lists', () => {
    // Prepare
    const shown = invocations.filter(({ script }) => script === 'bench');
    const help = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--help'], { encoding: 'utf8' });

    // Act
    const listed = new Set([...help.stdout.matchAll(/--[a-z][\w-]*/g)].map((match) => match[0]));
    const unknown = shown.flatMap(({ shown: text, args }) => args.filter((arg) => arg.startsWith('--') && !listed.has(arg)).map((arg) => `${text}: ${arg}`));

    // Assess
    expect(help.status).toBe(0);
    expect(shown.length).toBeGreaterThan(0);
    expect(unknown).toEqual([]);
  }, 60_000);
});

describe('Docs: the first operator of the web view', () => {
  const commands = allPages().flatMap((page) => shownCommands(read(page)).map((words) => ({ page, words })));
  const option = (words: readonly string[], name: string) => words[words.indexOf(name) + 1];

  it('is put in the group the stack creates and the API checks', () => {
    const added = commands.filter(({ words }) => words.slice(0, 3).join(' ') === 'aws cognito-idp admin-add-user-to-group');
    expect(added.map(({ page }) => page)).toContain('docs/deploying.md');
    for (const { words } of added) expect(option(words, '--group-name')).toBe(OPERATORS_GROUP);
  });

  it('is created in the user pool the stack names in its outputs', () => {
    const lookups = commands.filter(({ words }) => words.some((word) => word.includes('aws cloudformation describe-stacks')) || words.includes('describe-stacks'));
    const queries = lookups.map(({ words }) => option(words, '--query') ?? '');
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) expect(query).toContain(`OutputKey=='${WebViewOutput.UserPoolId}'`);
    expect(commands.filter(({ words }) => words.slice(0, 3).join(' ') === 'aws cognito-idp admin-create-user').map(({ page }) => page)).toContain('docs/deploying.md');
  });
});

describe('Docs: the secret the deploy page tells an operator to create', () => {
  const createSecret = allPages().flatMap((page) =>
    shownCommands(read(page))
      .filter((words) => words.slice(0, 3).join(' ') === 'aws secretsmanager create-secret' && words.includes('--secret-string'))
      .map((words) => ({ page, option: (name: string) => words[words.indexOf(name) + 1] })),
  );

  it('is shown', () => {
    expect(createSecret.map(({ page }) => page)).toContain('docs/deploying.md');
  });

  it.each(createSecret)('in $page, is named as the TNS runners declare it', ({ option }) => {
    expect(option('--name')).toBe(TNS_SECRET_NAME);
    expect(registry.filter((runner) => runner.secretNames?.includes(TNS_SECRET_NAME)).map((runner) => runner.taskName)).toEqual(
      expect.arrayContaining(['TNS data ingestion', 'Ingest missed TNS transients']),
    );
  });

  it.each(createSecret)("in $page, holds exactly the keys the code reads, which its own reader and parser accept", async ({ option }) => {
    // Prepare: the secret as Secrets Manager would hand it to the TNS runners' function
    const secretString = option('--secret-string') ?? '';
    const arns = { [TNS_SECRET_NAME]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:blast/tns-bot' };
    const source = secretSource(arns, {}, { get: async () => secretString });

    // Act
    const values = await source.read(TNS_SECRET_NAME, tnsCredentialKeys);

    // Assess
    expect(Object.keys(JSON.parse(secretString) as object).filter((key) => !(tnsCredentialKeys as readonly string[]).includes(key))).toEqual([]);
    expect(() => parseTnsCredentials(values, 'the docs')).not.toThrow();
  });
});
