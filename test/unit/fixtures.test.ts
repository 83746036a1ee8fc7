import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FixtureError } from '../../lib/domain/errors';
import { STATUS_FIXTURE, TASK_FIXTURE, loadCatalog, parseFixtureEntries } from '../../lib/fixtures/load-catalog';

const validStatuses = `- model: host.Status
  pk: 1
  fields:
    message: not processed
    type: blank
- model: host.Status
  fields: {message: processing, type: warning}
- model: host.Status
  fields: {message: processed, type: success}
- model: host.Status
  fields: {message: time limit exceeded, type: error}
- model: host.Status
  fields: {message: failed, type: error}
`;
const validTasks = `- model: host.Task
  fields:
    name: Host match
`;

const fixtureDir = (statuses: string, tasks: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'fixtures-'));
  writeFileSync(join(dir, STATUS_FIXTURE), statuses);
  writeFileSync(join(dir, TASK_FIXTURE), tasks);
  return dir;
};

const loadError = (statuses: string, tasks = validTasks): string => {
  try {
    loadCatalog(fixtureDir(statuses, tasks));
  } catch (error) {
    expect(error).toBeInstanceOf(FixtureError);
    return (error as Error).message;
  }
  throw new Error('expected the fixtures to be rejected');
};

describe('Function: loadCatalog', () => {
  it("reads the project's fixtures in Blast's format", () => {
    // Act
    const catalog = loadCatalog('fixtures');

    // Assess
    expect(catalog.statuses.get('no GHOST match')).toMatchObject({ type: 'error' });
    expect(catalog.statuses.get('not processed')?.source).toEqual({ file: 'fixtures/setup_status.yaml', line: 4 });
    expect([...catalog.tasks.keys()]).toContain('Global host SED inference');
    expect(catalog.statuses.size).toBe(readFileSync(join('fixtures', STATUS_FIXTURE), 'utf8').match(/^- model: host\.Status$/gm)?.length);
    expect(catalog.tasks.size).toBe(readFileSync(join('fixtures', TASK_FIXTURE), 'utf8').match(/^- model: host\.Task$/gm)?.length);
  });

  it('accepts statuses and tasks written in either file and in flow style', () => {
    const catalog = loadCatalog(fixtureDir(validStatuses, validTasks));
    expect([...catalog.statuses.keys()]).toEqual(['not processed', 'processing', 'processed', 'time limit exceeded', 'failed']);
    expect([...catalog.tasks.keys()]).toEqual(['Host match']);
  });

  it.each([
    ['invalid YAML', `- model: host.Status\n  fields: {message: [unclosed\n`, /setup_status\.yaml:3: invalid YAML/],
    ['not a list', `model: host.Status\n`, /setup_status\.yaml:1: expected a YAML list of \{model, fields\} entries/],
    ['a missing fields block', `${validStatuses}- model: host.Status\n`, /setup_status\.yaml:14: entry 6: fields: missing \(expected a map of the entry's fields\)/],
    ['an unknown model', `${validStatuses}- model: host.Transient\n  fields: {name: x}\n`, /setup_status\.yaml:14: entry 6: unknown model "host.Transient"/],
    ['an unknown type', `${validStatuses}- model: host.Status\n  fields: {message: odd, type: purple}\n`, /setup_status\.yaml:14: status: type: type must be one of blank, success, warning, error/],
    ['an empty message', `${validStatuses}- model: host.Status\n  fields: {message: '', type: error}\n`, /setup_status\.yaml:14: status: message: message must not be empty/],
    ['a duplicate status', `${validStatuses}- model: host.Status\n  fields: {message: failed, type: error}\n`, /setup_status\.yaml:14: status "failed" is declared twice \(first at line 12\)/],
    ['a primary key used twice', `${validStatuses}- model: host.Status\n  pk: 1\n  fields: {message: odd, type: error}\n`, /setup_status\.yaml:14: status: pk 1 is used twice in host\.Status \(first at line 1\)/],
    ['a primary key used twice, once as text', `${validStatuses}- model: host.Status\n  pk: '1'\n  fields: {message: odd, type: error}\n`, /setup_status\.yaml:14: status: pk "1" is used twice/],
  ])('rejects %s with the file and line', (_case, statuses, expected) => {
    expect(loadError(statuses)).toMatch(expected);
  });

  it('accepts fields and keys it does not read, as Django\'s loaddata does, with a warning naming each', () => {
    // Prepare: an extra field in a status and a task, an extra key in an entry (Blast's models carry more than we read)
    const statuses = `${validStatuses}- model: host.Status\n  fields: {message: odd, type: error, explanation: the host is too faint}\n`;
    const tasks = `- model: host.Task\n  pk: 7\n  created: 2021-01-01\n  fields:\n    name: Host match\n    initially_enabled: true\n`;

    // Act
    const catalog = loadCatalog(fixtureDir(statuses, tasks));

    // Assess
    expect(catalog.statuses.get('odd')).toMatchObject({ message: 'odd', type: 'error' });
    expect(catalog.statuses.get('odd')).not.toHaveProperty('explanation');
    expect([...catalog.tasks.keys()]).toEqual(['Host match']);
    expect(catalog.warnings).toEqual([
      expect.stringMatching(/setup_status\.yaml:14: status: ignored the field "explanation" \(not read by this project\)$/),
      expect.stringMatching(/setup_tasks\.yaml:1: task: ignored the entry's key "created"$/),
      expect.stringMatching(/setup_tasks\.yaml:1: task: ignored the field "initially_enabled" \(not read by this project\)$/),
    ]);
  });

  it('has no warnings for the project\'s own fixtures', () => {
    expect(loadCatalog('fixtures').warnings).toBeUndefined();
  });

  it('allows the same primary key in the two models, as Django keeps one table per model', () => {
    const tasks = `- model: host.Task\n  pk: 1\n  fields: {name: Host match}\n`;
    expect([...loadCatalog(fixtureDir(validStatuses, tasks)).tasks.keys()]).toEqual(['Host match']);
  });

  it('rejects fixtures that lack a status the framework writes, naming it and its type', () => {
    const withoutTimeLimit = validStatuses.replace('time limit exceeded', 'too slow');
    expect(loadError(withoutTimeLimit)).toMatch(/setup_status\.yaml: the framework needs status "time limit exceeded" \(type error\)/);
  });

  it('rejects a framework status declared with the wrong type', () => {
    expect(loadError(validStatuses.replace('message: processed, type: success', 'message: processed, type: warning'))).toMatch(
      /setup_status\.yaml:8: status "processed" must have type success, not warning/,
    );
  });

  it('rejects a duplicate task with both lines', () => {
    expect(loadError(validStatuses, `${validTasks}${validTasks}`)).toMatch(/setup_tasks\.yaml:4: task "Host match" is declared twice \(first at line 1\)/);
  });

  it('names a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fixtures-'));
    expect(() => loadCatalog(dir)).toThrow(/setup_status\.yaml: cannot read the fixture file/);
  });

  it('parses an empty file as no entries', () => {
    expect(parseFixtureEntries('', 'empty.yaml')).toEqual([]);
  });
});
