/**
 * `ingest FILE`: transients from YAML, JSON or CSV. Bad rows are reported one line each (the first 20, then
 * how many more) and skipped; good
 * rows are written in transactions (each transient with its ready markers), so an interrupted ingest leaves
 * only whole transients and running it again adds the rest without touching those already there.
 */
import { Presets, SingleBar } from 'cli-progress';
import { chunk } from '../engine/concurrency';
import type { Engine } from '../engine/engine';
import { ingestTransients } from '../engine/ingest';
import { type ParsedRows, type RowError, rowErrorLines } from '../fixtures/transient-files';

/** Transients per ingest call: the unit of progress. */
const CHUNK = 100;
/** Ingest calls in flight at once. */
const CONCURRENCY = 4;
/** Smaller files finish before a bar would tell anyone anything. */
const PROGRESS_MIN_ROWS = 500;

export interface IngestFileOptions {
  /** Send the first tasks to their queues now; otherwise the dispatcher sends them, oldest first, on its next run. */
  readonly announce: boolean;
  /** Where the progress bar and the row errors go. */
  readonly stream: NodeJS.WriteStream;
}

export interface IngestFileResult {
  readonly rows: number;
  readonly created: number;
  readonly existing: number;
  readonly rejected: readonly RowError[];
}

/** Ingests the rows read from `file` (`readTransientFile`, before connecting: a bad file needs no target to say so). */
export const ingestFile = async (engine: Engine, file: string, rows: ParsedRows, options: IngestFileOptions): Promise<IngestFileResult> => {
  const { transients, errors } = rows;
  for (const line of rowErrorLines(file, errors)) options.stream.write(`✗ ${line}\n`);
  const bar =
    transients.length >= PROGRESS_MIN_ROWS
      ? new SingleBar(
          {
            stream: options.stream,
            format: 'ingesting {bar} {percentage}% · {value}/{total} transients · {eta_formatted} left',
            noTTYOutput: true,
            notTTYSchedule: 2_000,
            hideCursor: true,
            etaBuffer: 20,
          },
          Presets.shades_classic,
        )
      : undefined;
  bar?.start(transients.length, 0);
  let created = 0;
  let existing = 0;
  const chunks = chunk(transients, CHUNK);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let group = chunks[next++]; group && !failure; group = chunks[next++]) {
      try {
        const result = await ingestTransients(engine, group, { announce: options.announce });
        created += result.created;
        existing += result.existing;
        bar?.increment(group.length);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, chunks.length) }, worker));
  bar?.stop();
  if (failure) {
    options.stream.write(
      `stopped after ${created + existing} of ${transients.length} transients (each written whole); ingesting ${file} again adds the rest\n`,
    );
    throw failure.error;
  }
  return { rows: transients.length + errors.length, created, existing, rejected: errors };
};
