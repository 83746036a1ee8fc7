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

/** How many rejected rows a command lists one by one; the rest are counted in one line. */
export const ROW_ERRORS_SHOWN = 20;

/** Longest excerpt of a file's content an error message quotes. */
const EXCERPT_LENGTH = 60;

/**
 * Text from a file, safe to print on a terminal: control, format and unassigned characters escaped (`\x1b`,
 * `\u200e`), and cut at `max` characters. Parse errors quote the file; a file is outside input.
 */
export const printable = (text: string, max = EXCERPT_LENGTH): string => {
  const characters = [...text];
  const shown = characters
    .slice(0, max)
    .map((character) => {
      if (!/[\p{Cc}\p{Cf}\p{Cn}\p{Co}\p{Cs}\uFFFD]/u.test(character)) return character;
      const code = character.codePointAt(0) ?? 0;
      return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
    })
    .join('');
  return characters.length > max ? `${shown}…` : shown;
};

/** What is wrong with a file that could not be read, in words. */
export const describeReadFailure = (error: NodeJS.ErrnoException): string => {
  switch (error.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'not readable (permission denied)';
    case 'ENOTDIR':
      return 'no such file (a part of the path is not a directory)';
    default:
      return `cannot read the file (${error.code ?? error.message})`;
  }
};

/** The lines that report rejected rows: the first `shown` one by one, then how many more there are. */
export const rowErrorLines = (file: string, errors: readonly RowError[], shown = ROW_ERRORS_SHOWN): string[] => [
  ...errors.slice(0, shown).map((error) => `${file}: row ${error.row}${error.line ? ` (line ${error.line})` : ''}: ${error.message}`),
  ...(errors.length > shown ? [`${file}: … and ${errors.length - shown} more rejected rows (${errors.length} in all)`] : []),
];

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
    throw new TransientFileError(`${file}:${lineCounter.linePos(syntaxError.pos[0]).line}: invalid YAML: ${printable(syntaxError.message.split('\n')[0] ?? '')}`);
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
    throw new TransientFileError(`${file}: invalid JSON: ${printable((cause as Error).message, 2 * EXCERPT_LENGTH)}`, { cause });
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
    throw new TransientFileError(`${file}: invalid CSV: ${printable((cause as Error).message, 2 * EXCERPT_LENGTH)}`, { cause });
  }
};

export const parseTransientText = (text: string, file: string): ParsedRows => {
  const extension = extname(file).toLowerCase();
  const rows =
    extension === '.json' ? jsonRows(text, file) : extension === '.csv' ? csvRows(text, file) : extension === '.yaml' || extension === '.yml' ? yamlRows(text, file) : undefined;
  if (!rows) throw new TransientFileError(`${file}: unknown file type "${extension}" (use .yaml, .yml, .json or .csv)`);
  return parseTransientRows(rows);
};

/**
 * Reads and parses a transients file. What is wrong with the file itself (missing, a directory, unreadable,
 * binary, not UTF-8) is one TransientFileError naming it, and never quotes its bytes.
 */
export const readTransientFile = (file: string): ParsedRows => {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (cause) {
    throw new TransientFileError(`${file}: ${describeReadFailure(cause as NodeJS.ErrnoException)}`, { cause });
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new TransientFileError(`${file}: not a text file (a NUL byte at offset ${nul}); expected YAML, JSON or CSV text`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new TransientFileError(`${file}: not UTF-8 text; expected YAML, JSON or CSV saved as UTF-8`, { cause });
  }
  return parseTransientText(text, file);
};
