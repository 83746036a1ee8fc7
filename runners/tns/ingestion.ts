/**
 * What the TNS system runners do, as functions of their context and a client (so tests can drive them):
 * ingest what TNS made public recently, and ingest or update every row of a daily file in batches, with
 * progress logged and a checkpoint after each batch, so a run cut short resumes where it stopped.
 */
import { z } from 'zod';
import type { SystemTaskContext, Transient, UpsertSummary } from '../../lib/runner';
import { TnsClient, type TnsClientOptions } from './client';
import { TNS_SECRET_NAME, parseTnsCredentials, tnsCredentialKeys } from './credentials';
import { openDailyFile } from './daily-file';
import { transientFromObject } from './objects';

export const TnsMetric = {
  /** HTTP requests sent to TNS. */
  Requests: 'TnsRequests',
  /** Requests TNS answered with 429. */
  Throttled: 'TnsThrottled',
  /** Daily-file rows or objects that could not become transients. */
  Rejected: 'TnsRejected',
} as const;

/** Rejected rows kept in a report (every one is logged). */
const MAX_REPORTED_REJECTIONS = 100;

/** A client with the bot's credentials (its secret in AWS, the environment here), bound to the run. */
export const tnsClientFor = async (context: SystemTaskContext, options: Partial<TnsClientOptions> = {}): Promise<TnsClient> => {
  const values = await context.secret(TNS_SECRET_NAME, tnsCredentialKeys);
  return new TnsClient({
    credentials: parseTnsCredentials(values, `secret "${TNS_SECRET_NAME}" or the environment`),
    signal: context.signal,
    logger: context.logger,
    onResponse: (_endpoint, status) => {
      context.metric(TnsMetric.Requests, 1);
      if (status === 429) context.metric(TnsMetric.Throttled, 1);
    },
    ...options,
  });
};

export interface Rejection {
  readonly name?: string;
  readonly row?: number;
  readonly line?: number;
  readonly reason: string;
}

export interface IngestionTotals {
  created: number;
  updated: number;
  unchanged: number;
  tasksReset: number;
  rejected: number;
}

const emptyTotals = (): IngestionTotals => ({ created: 0, updated: 0, unchanged: 0, tasksReset: 0, rejected: 0 });

const addSummary = (totals: IngestionTotals, summary: UpsertSummary) => {
  totals.created += summary.created;
  totals.updated += summary.updated;
  totals.unchanged += summary.unchanged;
  totals.tasksReset += summary.tasksReset;
  totals.rejected += summary.rejected.length;
};

export interface RecentIngestionReport extends IngestionTotals {
  readonly since: string;
  /** Objects the search listed. */
  readonly found: number;
  /** Listed objects whose details TNS no longer had. */
  readonly notFound: readonly string[];
  readonly rejections: readonly Rejection[];
  /** Stopped before the end because the function's time was running out. */
  readonly stopped: boolean;
}

/**
 * Asks TNS for the objects made public since `since`, fetches each one's details, and ingests or updates
 * them `batchSize` at a time, so what was fetched is kept even if the run is cut short.
 */
export const ingestRecentFromTns = async (
  context: SystemTaskContext,
  client: Pick<TnsClient, 'searchPublishedSince' | 'object'>,
  since: Date,
  batchSize = 10,
): Promise<RecentIngestionReport> => {
  const hits = await client.searchPublishedSince(since);
  const names = [...new Set(hits.map((hit) => hit.objname.trim()))];
  context.logger.info('TNS search done', { since: since.toISOString(), found: names.length });
  const totals = emptyTotals();
  const notFound: string[] = [];
  const rejections: Rejection[] = [];
  let stopped = false;
  for (let start = 0; start < names.length; start += batchSize) {
    if (context.signal.aborted) {
      stopped = true;
      break;
    }
    const transients: Transient[] = [];
    for (const name of names.slice(start, start + batchSize)) {
      const object = await client.object(name);
      if (!object) {
        notFound.push(name);
        context.logger.warn('TNS listed an object it then did not return', { transient: name });
        continue;
      }
      const converted = transientFromObject(object);
      if (converted.ok) transients.push(converted.transient);
      else rejections.push({ name, reason: converted.reason });
    }
    const summary = await context.upsert(transients);
    rejections.push(...summary.rejected);
    addSummary(totals, summary);
    context.logger.info('TNS objects ingested', { done: Math.min(start + batchSize, names.length), of: names.length, ...totals });
  }
  for (const rejection of rejections) context.logger.warn('TNS object rejected', { transient: rejection.name, reason: rejection.reason });
  totals.rejected = rejections.length;
  if (rejections.length > 0) context.metric(TnsMetric.Rejected, rejections.length);
  return { since: since.toISOString(), found: names.length, notFound, rejections, stopped, ...totals };
};

const checkpointSchema = z.object({
  file: z.string(),
  rowsDone: z.number().int().nonnegative(),
  finished: z.boolean(),
});
export type DailyCheckpoint = z.infer<typeof checkpointSchema>;

export const DailyOutcome = {
  Ingested: 'ingested',
  AlreadyIngested: 'already ingested',
  NotPublished: 'not published yet',
  /** Cut short by the function's timeout; the checkpoint lets the next run resume. */
  Stopped: 'stopped',
} as const;
export type DailyOutcome = (typeof DailyOutcome)[keyof typeof DailyOutcome];

export interface DailyIngestionReport extends IngestionTotals {
  readonly date: string;
  readonly outcome: DailyOutcome;
  /** Data rows in the file. */
  readonly rows: number;
  /** Rows already done by an earlier run that was cut short. */
  readonly resumedAt: number;
  readonly rowsDone: number;
  /** The first rejected rows (all of them are logged). */
  readonly rejections: readonly Rejection[];
}

export interface DailyIngestionOptions {
  /** Rows per upsert (and per checkpoint). @default 500 */
  readonly batchRows?: number;
  /** Batches upserted at once. @default 4 */
  readonly concurrency?: number;
}

/**
 * Upserts batches a few at a time while keeping the checkpoint honest: it only moves past a batch once
 * every batch before it is done. A batch naming a transient that one in flight also names waits for it, so
 * two reports of one transient are applied in the file's order.
 */
class BatchPipeline {
  private readonly running = new Map<number, { promise: Promise<void>; names: Set<string> }>();
  private readonly finished = new Map<number, number>();
  private next = 0;
  private committed = 0;
  private checkpoint: Promise<void> = Promise.resolve();
  private failure: unknown;
  rowsDone: number;

  constructor(
    resumeAfter: number,
    private readonly concurrency: number,
    private readonly onCommit: (rowsDone: number) => Promise<void>,
  ) {
    this.rowsDone = resumeAfter;
  }

  /**
   * Starts a batch once there is room (and no batch in flight shares a transient with it); returns false,
   * starting nothing, if `signal` was aborted meanwhile.
   */
  async add(transients: Transient[], lastRow: number, upsert: (transients: Transient[]) => Promise<void>, signal: AbortSignal): Promise<boolean> {
    const names = new Set(transients.map((transient) => transient.name));
    const overlapping = [...this.running.values()].filter((batch) => transients.some((transient) => batch.names.has(transient.name)));
    await Promise.allSettled(overlapping.map((batch) => batch.promise));
    while (this.running.size >= this.concurrency) await Promise.race([...this.running.values()].map((batch) => batch.promise));
    this.rethrow();
    if (signal.aborted) return false;
    const id = this.next++;
    const promise = upsert(transients).then(
      () => this.done(id, lastRow),
      (error: unknown) => {
        this.failure ??= error;
      },
    );
    this.running.set(id, { promise: promise.finally(() => this.running.delete(id)), names });
    return true;
  }

  /** Waits for every batch started, then throws the first failure. */
  async drain(): Promise<void> {
    await this.settle();
    this.rethrow();
  }

  async settle(): Promise<void> {
    await Promise.allSettled([...this.running.values()].map((batch) => batch.promise));
    await this.checkpoint;
  }

  private done(id: number, lastRow: number) {
    this.finished.set(id, lastRow);
    let advanced = false;
    for (let row = this.finished.get(this.committed); row !== undefined; row = this.finished.get(this.committed)) {
      this.finished.delete(this.committed++);
      this.rowsDone = row;
      advanced = true;
    }
    if (!advanced) return;
    const rowsDone = this.rowsDone;
    this.checkpoint = this.checkpoint.then(() => this.onCommit(rowsDone));
  }

  private rethrow() {
    if (this.failure !== undefined) throw this.failure;
  }
}

/**
 * Ingests or updates every row of the daily file for `date` (YYYYMMDD). New transients' first tasks wait
 * for the dispatcher (a bulk load); changed ones are reset and announced at once. Each bad row is logged
 * with its row, line and reason and the good ones go on. Progress is logged after every batch, and a
 * checkpoint is written, so a run stopped by the timeout resumes after the last batch it finished.
 */
export const ingestDailyFile = async (
  context: SystemTaskContext,
  client: Pick<TnsClient, 'dailyFile'>,
  date: string,
  options: DailyIngestionOptions = {},
): Promise<DailyIngestionReport> => {
  const batchRows = options.batchRows ?? 500;
  const batchConcurrency = options.concurrency ?? 4;
  const saved = checkpointSchema.safeParse(await context.readState());
  const checkpoint = saved.success && saved.data.file === date ? saved.data : undefined;
  const totals = emptyTotals();
  const rejections: Rejection[] = [];
  const report = (outcome: DailyOutcome, rows: number, rowsDone: number): DailyIngestionReport => ({
    date,
    outcome,
    rows,
    resumedAt: checkpoint?.rowsDone ?? 0,
    rowsDone,
    rejections: rejections.slice(0, MAX_REPORTED_REJECTIONS),
    ...totals,
  });
  if (checkpoint?.finished) {
    context.logger.info('daily file already ingested', { date, rows: checkpoint.rowsDone });
    return report(DailyOutcome.AlreadyIngested, checkpoint.rowsDone, checkpoint.rowsDone);
  }
  const zip = await client.dailyFile(date);
  if (!zip) {
    context.logger.info('TNS has not published the daily file yet', { date });
    return report(DailyOutcome.NotPublished, 0, 0);
  }
  const file = openDailyFile(zip);
  const resumeAfter = checkpoint?.rowsDone ?? 0;
  context.logger.info('daily file opened', { date, file: file.csvName, rows: file.rowCount, resumeAfter, bytes: zip.length });

  const reject = (rejection: Rejection) => {
    totals.rejected++;
    if (rejections.length < MAX_REPORTED_REJECTIONS) rejections.push(rejection);
    context.logger.warn('daily file row rejected', { date, ...rejection });
  };
  const batches = new BatchPipeline(resumeAfter, batchConcurrency, async (done) => {
    await context.writeState({ file: date, rowsDone: done, finished: false } satisfies DailyCheckpoint);
    context.logger.info('daily file progress', {
      date,
      rowsDone: done,
      of: file.rowCount,
      percent: file.rowCount > 0 ? Math.round((100 * done) / file.rowCount) : 100,
      ...totals,
    });
  });
  const upsert = async (transients: Transient[]) => {
    const summary = await context.upsert(transients, { announce: false });
    const rejected = totals.rejected;
    addSummary(totals, summary);
    totals.rejected = rejected;
    summary.rejected.forEach(reject);
  };

  let pending: Transient[] = [];
  let lastRow = resumeAfter;
  let lastAdded = resumeAfter;
  const stop = async () => {
    await batches.drain();
    context.logger.warn('stopping before the function times out; the next run resumes', { date, rowsDone: batches.rowsDone });
    return report(DailyOutcome.Stopped, file.rowCount, batches.rowsDone);
  };
  try {
    for await (const row of file.rows()) {
      if (row.row <= resumeAfter) continue;
      if (row.result.ok) pending.push(row.result.transient);
      else reject({ row: row.row, line: row.line, reason: row.result.reason });
      lastRow = row.row;
      if (pending.length < batchRows) continue;
      const started = await batches.add(pending, lastRow, upsert, context.signal);
      pending = [];
      lastAdded = lastRow;
      if (!started || context.signal.aborted) return await stop();
    }
    if (lastRow > lastAdded && !(await batches.add(pending, lastRow, upsert, context.signal))) return await stop();
    await batches.drain();
  } finally {
    await batches.settle();
  }
  const rowsDone = batches.rowsDone;
  await context.writeState({ file: date, rowsDone, finished: true } satisfies DailyCheckpoint);
  if (totals.rejected > 0) context.metric(TnsMetric.Rejected, totals.rejected);
  context.logger.info('daily file ingested', { date, rows: rowsDone, ...totals });
  return report(DailyOutcome.Ingested, file.rowCount, rowsDone);
};
