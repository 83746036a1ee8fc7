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

// Fields and keys this project does not use are accepted and ignored, with a warning, as Django's loaddata
// ignores an entry's other keys (Blast's models may carry more fields than the framework reads).
const statusFields = z.object({
  message: z.string().trim().min(1, 'message must not be empty'),
  type: z.enum(statusTypes, { error: () => `type must be one of ${statusTypes.join(', ')}` }),
});
const taskFields = z.object({ name: z.string().trim().min(1, 'name must not be empty') });
const entry = z.object({
  model: z.string({ error: 'model: missing (expected host.Status or host.Task)' }),
  pk: z.union([z.number(), z.string()]).optional(),
  fields: z.record(z.string(), z.unknown(), { error: "missing (expected a map of the entry's fields)" }),
});
const entryKeys = new Set(Object.keys(entry.shape));

/** The keys of `value` that `known` does not name, in the order written. */
const unknownKeys = (value: object, known: Iterable<string>): string[] => {
  const names = new Set(known);
  return Object.keys(value).filter((key) => !names.has(key));
};

const models = { status: 'host.status', task: 'host.task' } as const;
type Model = (typeof models)[keyof typeof models];

interface Entry {
  readonly model: Model;
  readonly pk?: number | string;
  readonly fields: unknown;
  readonly source: SourceLocation;
  /** Keys of the entry other than model, pk and fields (ignored). */
  readonly otherKeys: readonly string[];
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
    const otherKeys = unknownKeys(values[index] as object, entryKeys);
    return { model, ...(parsed.data.pk === undefined ? {} : { pk: parsed.data.pk }), fields: parsed.data.fields, source, otherKeys };
  });
};

const describeKeys = (keys: readonly string[]) => keys.map((key) => JSON.stringify(key)).join(', ');

/**
 * Builds the catalog from the entries of both files; every problem names its file and line. Keys and fields
 * the framework does not read are ignored, each with a warning; a primary key used twice in a model is refused.
 */
export const buildCatalog = (entries: readonly Entry[], statusFile: string, taskFile: string): Catalog => {
  const statuses = new Map<string, StatusDefinition>();
  const tasks = new Map<string, TaskDefinition>();
  const warnings: string[] = [];
  const primaryKeys = new Map<string, SourceLocation>();
  for (const { model, pk, fields, source, otherKeys } of entries) {
    const where = `${source.file}:${source.line}`;
    const kind = model === models.status ? 'status' : 'task';
    if (otherKeys.length > 0) warnings.push(`${where}: ${kind}: ignored the entry's ${otherKeys.length === 1 ? 'key' : 'keys'} ${describeKeys(otherKeys)}`);
    if (pk !== undefined) {
      // Django's primary keys are per model, and an integer key may be written either way.
      const key = `${model}#${String(pk).trim()}`;
      const first = primaryKeys.get(key);
      if (first) {
        const at = first.file === source.file ? `line ${first.line}` : `${first.file}:${first.line}`;
        throw new FixtureError(`${where}: ${kind}: pk ${JSON.stringify(pk)} is used twice in ${model === models.status ? 'host.Status' : 'host.Task'} (first at ${at})`);
      }
      primaryKeys.set(key, source);
    }
    const ignoredFields = (known: object) => {
      const ignored = unknownKeys(fields as object, Object.keys(known));
      if (ignored.length > 0) warnings.push(`${where}: ${kind}: ignored the ${ignored.length === 1 ? 'field' : 'fields'} ${describeKeys(ignored)} (not read by this project)`);
    };
    if (model === models.status) {
      const parsed = statusFields.safeParse(fields);
      if (!parsed.success) throw new FixtureError(`${where}: status: ${describeIssues(parsed.error)}`);
      ignoredFields(statusFields.shape);
      const seen = statuses.get(parsed.data.message);
      if (seen) throw new FixtureError(`${where}: status "${parsed.data.message}" is declared twice (first at line ${seen.source.line})`);
      statuses.set(parsed.data.message, { ...parsed.data, source });
    } else {
      const parsed = taskFields.safeParse(fields);
      if (!parsed.success) throw new FixtureError(`${where}: task: ${describeIssues(parsed.error)}`);
      ignoredFields(taskFields.shape);
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
  return { statuses, tasks, statusFile, taskFile, ...(warnings.length > 0 ? { warnings } : {}) };
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
