import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { LineCounter, isNode, isSeq, parseDocument } from 'yaml';
import { z } from 'zod';
import {
  type Catalog,
  type SourceLocation,
  type StatusDefinition,
  type TaskDefinition,
  requiredStatusTypes,
  statusTypes,
} from './domain/catalog';
import { FixtureError } from './domain/errors';

/** File names as in Blast's `app/host/fixtures/initial/`. */
export const STATUS_FIXTURE = 'setup_status.yaml';
export const TASK_FIXTURE = 'setup_tasks.yaml';

const statusFields = z.strictObject({
  message: z.string().trim().min(1, 'message must not be empty'),
  type: z.enum(statusTypes, { error: () => `type must be one of ${statusTypes.join(', ')}` }),
});
const taskFields = z.strictObject({ name: z.string().trim().min(1, 'name must not be empty') });
const entry = z.strictObject({
  model: z.string({ error: 'model: missing (expected host.Status or host.Task)' }),
  pk: z.union([z.number(), z.string()]).optional(),
  fields: z.record(z.string(), z.unknown(), { error: "missing (expected a map of the entry's fields)" }),
});

const models = { status: 'host.status', task: 'host.task' } as const;
type Model = (typeof models)[keyof typeof models];

interface Entry {
  readonly model: Model;
  readonly fields: unknown;
  readonly source: SourceLocation;
}

const describeIssues = (error: z.ZodError): string =>
  error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');

/** Parses one fixture file's text into its entries, or throws a FixtureError naming file and line. */
export const parseFixtureEntries = (text: string, file: string): Entry[] => {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const [syntaxError] = doc.errors;
  if (syntaxError) {
    const line = lineCounter.linePos(syntaxError.pos[0]).line;
    throw new FixtureError(`${file}:${line}: invalid YAML: ${syntaxError.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (root === null) return [];
  if (!isSeq(root)) {
    throw new FixtureError(`${file}:1: expected a YAML list of {model, fields} entries, as Blast's fixtures are`);
  }
  const values = doc.toJS() as unknown[];
  return root.items.map((item, index) => {
    const offset = isNode(item) && item.range ? item.range[0] : 0;
    const source = { file, line: lineCounter.linePos(offset).line };
    const where = `${file}:${source.line}: entry ${index + 1}`;
    const parsed = entry.safeParse(values[index]);
    if (!parsed.success) throw new FixtureError(`${where}: ${describeIssues(parsed.error)}`);
    const model = parsed.data.model.toLowerCase();
    if (model !== models.status && model !== models.task) {
      throw new FixtureError(`${where}: unknown model "${parsed.data.model}" (expected host.Status or host.Task)`);
    }
    return { model, fields: parsed.data.fields, source };
  });
};

/** Builds the catalog from the entries of both files; every problem names its file and line. */
export const buildCatalog = (entries: readonly Entry[], statusFile: string, taskFile: string): Catalog => {
  const statuses = new Map<string, StatusDefinition>();
  const tasks = new Map<string, TaskDefinition>();
  for (const { model, fields, source } of entries) {
    const where = `${source.file}:${source.line}`;
    if (model === models.status) {
      const parsed = statusFields.safeParse(fields);
      if (!parsed.success) throw new FixtureError(`${where}: status: ${describeIssues(parsed.error)}`);
      const seen = statuses.get(parsed.data.message);
      if (seen) throw new FixtureError(`${where}: status "${parsed.data.message}" is declared twice (first at line ${seen.source.line})`);
      statuses.set(parsed.data.message, { ...parsed.data, source });
    } else {
      const parsed = taskFields.safeParse(fields);
      if (!parsed.success) throw new FixtureError(`${where}: task: ${describeIssues(parsed.error)}`);
      const seen = tasks.get(parsed.data.name);
      if (seen) throw new FixtureError(`${where}: task "${parsed.data.name}" is declared twice (first at line ${seen.source.line})`);
      tasks.set(parsed.data.name, { name: parsed.data.name, source });
    }
  }
  for (const [message, type] of Object.entries(requiredStatusTypes)) {
    const declared = statuses.get(message);
    if (!declared) throw new FixtureError(`${statusFile}: the framework needs status "${message}" (type ${type}); it is not declared`);
    if (declared.type !== type) {
      throw new FixtureError(`${statusFile}:${declared.source.line}: status "${message}" must have type ${type}, not ${declared.type}`);
    }
  }
  return { statuses, tasks, statusFile, taskFile };
};

/** A fixture file as messages name it: relative to the working directory when inside it, else as given. */
const shownPath = (path: string): string => {
  const inside = relative(process.cwd(), path);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
};

const readFixture = (dir: string, name: string): Entry[] => {
  const path = join(dir, name);
  const shown = shownPath(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new FixtureError(`${shown}: cannot read the fixture file`, { cause });
  }
  return parseFixtureEntries(text, shown);
};

/** Reads `setup_status.yaml` and `setup_tasks.yaml` from `dir` (Blast's own format, unchanged). */
export const loadCatalog = (dir: string): Catalog => {
  const statusEntries = readFixture(dir, STATUS_FIXTURE);
  const taskEntries = readFixture(dir, TASK_FIXTURE);
  return buildCatalog([...statusEntries, ...taskEntries], shownPath(join(dir, STATUS_FIXTURE)), shownPath(join(dir, TASK_FIXTURE)));
};
