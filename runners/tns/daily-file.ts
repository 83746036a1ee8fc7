/**
 * TNS's daily public-objects file: a zip holding `tns_public_objects_YYYYMMDD.csv`, whose first line is a
 * title (the period it covers) above the header. Rows are read as a stream, a page of the text at a time,
 * so a 100,000-row file never becomes 100,000 objects at once; each row becomes a transient or a reason
 * naming its row and line. A row the CSV parser cannot read is reported too, and the rest go on. The zip is
 * inflated a small piece at a time and given up as soon as its CSV passes {@link MAX_DAILY_CSV_BYTES}, so a
 * zip bomb fails the run with a clear error instead of exhausting the function's memory.
 */
import { Readable } from 'node:stream';
import { type CsvError, type Info, parse } from 'csv-parse';
import { Unzip, UnzipInflate } from 'fflate';
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

/**
 * Largest CSV a daily zip may inflate to. TNS's whole catalogue (~170,000 objects) is tens of MB of CSV and a
 * day's file a slice of it; this leaves room for growth while the function (1,024 MB) holds it with the zip.
 */
export const MAX_DAILY_CSV_BYTES = 256 * 1024 * 1024;

/** Text is handed to the parser in pieces of this size, so its output waits for the reader. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Compressed bytes fed to the inflater at a time. DEFLATE expands at most ~1,032 times, so one piece inflates
 * to ~16 MB at most before the size is checked again.
 */
const ZIP_PIECE_BYTES = 16 * 1024;

export interface OpenDailyFileOptions {
  /** Largest CSV the zip may inflate to, in bytes. @default MAX_DAILY_CSV_BYTES */
  readonly maxCsvBytes?: number;
}

const chunksOf = function* (pieces: readonly Uint8Array[]) {
  for (const bytes of pieces) {
    for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) yield Buffer.from(bytes.buffer, bytes.byteOffset + offset, Math.min(CHUNK_BYTES, bytes.length - offset));
  }
};

const countLines = (pieces: readonly Uint8Array[]): number => {
  let lines = 0;
  let last = 0x0a;
  for (const bytes of pieces) {
    for (const byte of bytes) if (byte === 0x0a) lines++;
    if (bytes.length > 0) last = bytes[bytes.length - 1] ?? last;
  }
  return last !== 0x0a ? lines + 1 : lines;
};

/** The header is the first line naming a `name` column; lines above it (TNS's title line) are skipped. */
const headerLine = (pieces: readonly Uint8Array[]): number => {
  const first: Uint8Array[] = [];
  for (let size = 0, i = 0; size < 4096 && i < pieces.length; i++) {
    const piece = pieces[i] ?? new Uint8Array(0);
    first.push(piece.subarray(0, 4096 - size));
    size += Math.min(piece.length, 4096 - size);
  }
  const head = Buffer.concat(first).toString('utf8').split(/\r?\n/).slice(0, 3);
  const index = head.findIndex((line) => line.split(',').some((cell) => cell.replace(/"/g, '').trim().toLowerCase() === 'name'));
  if (index < 0) throw new TnsReplyError('the daily file has no header line naming a "name" column within its first lines');
  return index + 1;
};

/**
 * The first CSV file of a zip, inflated a piece at a time: given up with a TnsReplyError as soon as it passes
 * `maxBytes` (whatever size the archive declares), and the rest of the archive is not read once it is whole.
 */
const inflateFirstCsv = (zip: Uint8Array, maxBytes: number): { name: string; pieces: Uint8Array[] } => {
  let csv: { name: string; pieces: Uint8Array[]; size: number; done: boolean } | undefined;
  let failure: Error | undefined;
  let entries = 0;
  const unzip = new Unzip((file) => {
    entries++;
    if (csv || !file.name.toLowerCase().endsWith('.csv')) return;
    const found = { name: file.name, pieces: [] as Uint8Array[], size: 0, done: false };
    csv = found;
    // Errors are kept, not thrown: fflate hands a throw from here back to this callback as an error.
    file.ondata = (error, data, final) => {
      if (failure) return;
      if (error) {
        failure = new TnsReplyError('the daily file is not a readable zip archive', { cause: error });
        return;
      }
      found.size += data.length;
      if (found.size > maxBytes) {
        failure = new TnsReplyError(`the daily file's ${JSON.stringify(file.name)} inflates to more than ${maxBytes} bytes, the most this runner reads; it was not ingested`);
        return;
      }
      if (data.length > 0) found.pieces.push(data);
      found.done = final;
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  try {
    for (let offset = 0; offset < zip.length && !failure && !csv?.done; offset += ZIP_PIECE_BYTES) {
      const end = Math.min(offset + ZIP_PIECE_BYTES, zip.length);
      unzip.push(zip.subarray(offset, end), end === zip.length);
    }
  } catch (cause) {
    failure ??= new TnsReplyError('the daily file is not a readable zip archive', { cause });
  }
  if (failure) throw failure;
  if (entries === 0) throw new TnsReplyError('the daily file is not a readable zip archive');
  if (!csv) throw new TnsReplyError('the daily zip archive holds no CSV file');
  if (!csv.done) throw new TnsReplyError(`the daily zip archive ends inside ${JSON.stringify(csv.name)}`);
  return csv;
};

export const openDailyFile = (zip: Uint8Array, options: OpenDailyFileOptions = {}): DailyFile => {
  const { name: csvName, pieces } = inflateFirstCsv(zip, options.maxCsvBytes ?? MAX_DAILY_CSV_BYTES);
  const header = headerLine(pieces);
  return {
    csvName,
    rowCount: Math.max(0, countLines(pieces) - header),
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
      Readable.from(chunksOf(pieces)).pipe(parser);
      for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: Info }>) {
        yield* unreadableBefore(info.lines);
        yield { row: ++row, line: info.lines, result: transientFromCsvRow(record) };
      }
      yield* unreadableBefore(Number.POSITIVE_INFINITY);
    },
  };
};
