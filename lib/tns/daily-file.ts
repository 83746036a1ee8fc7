/**
 * TNS's daily public-objects file: a zip holding `tns_public_objects_YYYYMMDD.csv`, whose first line is a
 * title (the period it covers) above the header. Rows are read as a stream, a page of the text at a time,
 * so a 100,000-row file never becomes 100,000 objects at once; each row becomes a transient or a reason
 * naming its row and line. A row the CSV parser cannot read is reported too, and the rest go on.
 */
import { Readable } from 'node:stream';
import { type CsvError, type Info, parse } from 'csv-parse';
import { unzipSync } from 'fflate';
import { type Conversion, transientFromCsvRow } from './objects';
import { TnsReplyError } from './client';

/** The name of the daily file for a date (YYYYMMDD). */
export const dailyFileName = (date: string) => `tns_public_objects_${date}.csv`;

/** The UTC date `daysBack` days before `now`, as TNS names its daily files (YYYYMMDD). */
export const dailyFileDate = (now: number, daysBack = 1): string =>
  new Date(now - daysBack * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');

export interface DailyRow {
  /** 1-based position among the file's data rows. */
  readonly row: number;
  /** Line of the file where the row ends. */
  readonly line: number;
  readonly result: Conversion;
}

export interface DailyFile {
  readonly csvName: string;
  /** Data rows in the file (lines after the title and header; exact unless a field holds a line break). */
  readonly rowCount: number;
  rows(): AsyncIterable<DailyRow>;
}

/** Text is handed to the parser in pieces of this size, so its output waits for the reader. */
const CHUNK_BYTES = 64 * 1024;

const chunksOf = function* (bytes: Uint8Array) {
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) yield Buffer.from(bytes.buffer, bytes.byteOffset + offset, Math.min(CHUNK_BYTES, bytes.length - offset));
};

const countLines = (bytes: Uint8Array): number => {
  let lines = 0;
  for (const byte of bytes) if (byte === 0x0a) lines++;
  return bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a ? lines + 1 : lines;
};

/** The header is the first line naming a `name` column; lines above it (TNS's title line) are skipped. */
const headerLine = (bytes: Uint8Array): number => {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 4096)).toString('utf8').split(/\r?\n/).slice(0, 3);
  const index = head.findIndex((line) => line.split(',').some((cell) => cell.replace(/"/g, '').trim().toLowerCase() === 'name'));
  if (index < 0) throw new TnsReplyError('the daily file has no header line naming a "name" column within its first lines');
  return index + 1;
};

export const openDailyFile = (zip: Uint8Array): DailyFile => {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip, { filter: (file) => file.name.toLowerCase().endsWith('.csv') });
  } catch (cause) {
    throw new TnsReplyError('the daily file is not a readable zip archive', { cause });
  }
  const [csvName, bytes] = Object.entries(entries)[0] ?? [];
  if (csvName === undefined || bytes === undefined) throw new TnsReplyError('the daily zip archive holds no CSV file');
  const header = headerLine(bytes);
  return {
    csvName,
    rowCount: Math.max(0, countLines(bytes) - header),
    async *rows() {
      let row = 0;
      // The parser runs ahead of the reader, so unreadable records are held until the reader reaches their line.
      const skipped: { line: number; reason: string }[] = [];
      const parser = parse({
        columns: (names: string[]) => names.map((name) => name.trim().toLowerCase()),
        from_line: header,
        relax_column_count: true,
        skip_empty_lines: true,
        trim: true,
        info: true,
        skip_records_with_error: true,
        on_skip: (error: CsvError | undefined) => {
          skipped.push({ line: typeof error?.lines === 'number' ? error.lines : 0, reason: `unreadable CSV: ${error?.message ?? 'malformed record'}` });
          return undefined;
        },
      });
      const unreadableBefore = function* (line: number): Generator<DailyRow> {
        while (skipped[0] && skipped[0].line < line) {
          const { line: at, reason } = skipped.shift() ?? { line: 0, reason: '' };
          yield { row: ++row, line: at, result: { ok: false, reason } };
        }
      };
      Readable.from(chunksOf(bytes)).pipe(parser);
      for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: Info }>) {
        yield* unreadableBefore(info.lines);
        yield { row: ++row, line: info.lines, result: transientFromCsvRow(record) };
      }
      yield* unreadableBefore(Number.POSITIVE_INFINITY);
    },
  };
};
