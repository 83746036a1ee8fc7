/**
 * Reads transients from YAML, JSON or CSV files (Blast's example data, TNS exports, hand-made lists). Each
 * row is validated on its own: good rows are returned, each bad row yields one error naming its row.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { LineCounter, isMap, isSeq, parseDocument } from 'yaml';
import { TaskRunnerError } from './domain/errors';
import { describeTransientIssues, transientSchema } from './domain/transient';
import type { Transient } from './runner';

export class TransientFileError extends TaskRunnerError {}

export interface RowError {
  /** 1-based position of the row among the file's transients. */
  readonly row: number;
  /** Line of the file where the row starts, when known. */
  readonly line?: number;
  readonly message: string;
}

export interface ParsedRows {
  readonly transients: Transient[];
  readonly errors: RowError[];
}

interface RawRow {
  readonly values: Record<string, unknown>;
  readonly line?: number;
}

/** Column names accepted for each field: ours, Blast's and TNS's. */
const aliases: Record<keyof Transient, readonly string[]> = {
  name: ['name', 'objname', 'transient'],
  raDeg: ['ra', 'ra_deg', 'radeg'],
  decDeg: ['dec', 'dec_deg', 'decdeg'],
  publicTimestamp: ['public_timestamp', 'publictimestamp', 'discoverydate', 'timestamp', 'public timestamp'],
  redshift: ['redshift', 'z'],
  spectroscopicClass: ['class', 'spectroscopic_class', 'spectroscopicclass', 'type', 'object_type'],
};
const numericFields = new Set<keyof Transient>(['raDeg', 'decDeg', 'redshift']);

const normaliseKey = (key: string) => key.trim().toLowerCase();

const toCandidate = (values: Record<string, unknown>): Record<string, unknown> => {
  const byKey = new Map(Object.entries(values).map(([key, value]) => [normaliseKey(key), value]));
  const candidate: Record<string, unknown> = {};
  for (const [field, names] of Object.entries(aliases) as [keyof Transient, readonly string[]][]) {
    const key = names.find((name) => byKey.has(name));
    let value = key === undefined ? undefined : byKey.get(key);
    const numeric = numericFields.has(field);
    if (value === '' || value === null) value = undefined;
    if (numeric && typeof value === 'string') value = Number(value);
    // TNS writes NaN for an unknown redshift.
    if (field === 'redshift' && typeof value === 'number' && Number.isNaN(value)) value = undefined;
    if (value instanceof Date) value = value.toISOString();
    // Names such as 2010 read as numbers in YAML and JSON.
    if (!numeric && typeof value === 'number') value = String(value);
    if (value !== undefined) candidate[field] = value;
  }
  return candidate;
};

/** Validates rows one by one; a bad row never stops the good ones. */
export const parseTransientRows = (rows: readonly RawRow[]): ParsedRows => {
  const transients: Transient[] = [];
  const errors: RowError[] = [];
  const seen = new Map<string, number>();
  rows.forEach(({ values, line }, index) => {
    const row = index + 1;
    const at = line === undefined ? {} : { line };
    const parsed = transientSchema.safeParse(toCandidate(values));
    if (!parsed.success) {
      errors.push({ row, ...at, message: describeTransientIssues(parsed.error) });
      return;
    }
    const first = seen.get(parsed.data.name);
    if (first !== undefined) {
      errors.push({ row, ...at, message: `"${parsed.data.name}" already appears in row ${first}` });
      return;
    }
    seen.set(parsed.data.name, row);
    transients.push(parsed.data);
  });
  return { transients, errors };
};

const yamlRows = (text: string, file: string): RawRow[] => {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const [syntaxError] = doc.errors;
  if (syntaxError) {
    throw new TransientFileError(`${file}:${lineCounter.linePos(syntaxError.pos[0]).line}: invalid YAML: ${syntaxError.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  const list: unknown = isMap(root) ? root.get('transients', true) : root;
  if (!isSeq(list)) throw new TransientFileError(`${file}: expected a list of transients, or a map with a "transients" list`);
  return list.items.map((item) => {
    const value = (item as { toJSON(): unknown }).toJSON();
    const offset = (item as { range?: [number, number, number] }).range?.[0];
    return {
      values: value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {},
      ...(offset === undefined ? {} : { line: lineCounter.linePos(offset).line }),
    };
  });
};

const jsonRows = (text: string, file: string): RawRow[] => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new TransientFileError(`${file}: invalid JSON: ${(cause as Error).message}`, { cause });
  }
  const list = Array.isArray(json) ? json : (json as { transients?: unknown })?.transients;
  if (!Array.isArray(list)) throw new TransientFileError(`${file}: expected a JSON array of transients, or an object with a "transients" array`);
  return list.map((value) => ({ values: value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {} }));
};

const csvRows = (text: string, file: string): RawRow[] => {
  // TNS's daily files put a title line above the header; start at the first line naming a known column.
  const lines = text.split(/\r?\n/);
  const known = new Set(Object.values(aliases).flat());
  const headerIndex = lines.findIndex((line) => line.split(',').some((cell) => known.has(normaliseKey(cell.replace(/"/g, '')))));
  if (headerIndex < 0) throw new TransientFileError(`${file}: no header line naming the columns (name, ra, dec, public_timestamp, ...)`);
  try {
    const records = parseCsv(lines.slice(headerIndex).join('\n'), {
      columns: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      info: true,
    }) as { record: Record<string, string>; info: { lines: number } }[];
    return records.map(({ record, info }) => ({ values: record, line: headerIndex + info.lines }));
  } catch (cause) {
    throw new TransientFileError(`${file}: invalid CSV: ${(cause as Error).message}`, { cause });
  }
};

export const parseTransientText = (text: string, file: string): ParsedRows => {
  const extension = extname(file).toLowerCase();
  const rows =
    extension === '.json' ? jsonRows(text, file) : extension === '.csv' ? csvRows(text, file) : extension === '.yaml' || extension === '.yml' ? yamlRows(text, file) : undefined;
  if (!rows) throw new TransientFileError(`${file}: unknown file type "${extension}" (use .yaml, .yml, .json or .csv)`);
  return parseTransientRows(rows);
};

export const readTransientFile = (file: string): ParsedRows => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new TransientFileError(`${file}: cannot read the file (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
  return parseTransientText(text, file);
};
