/**
 * The execution record of a chaos run, one JSON line per event: runs of runners (start, end, deadline),
 * register writes with the item version they produced (claims, completions, resets, dead letters),
 * deletions, operator actions, injected faults, and every task message sent and deleted (so that the messages
 * alive at any moment are known). The invariant checks read it back during and after the run.
 * A file, so that every handler of the process (and a replay) writes to the same record.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../domain/errors';

const name = z.string();
export const journalEventSchema = z.discriminatedUnion('type', [
  /** An injected fault; `detail` names what exactly (e.g. which throttling exception). */
  z.object({ type: z.literal('fault'), fault: z.string(), key: z.string(), attempt: z.number(), detail: z.string().optional(), at: z.number() }),
  /** A runner began; `deadline` is when its function would have been stopped at the latest. */
  z.object({ type: z.literal('run-start'), transient: name, task: name, runId: z.string(), attempt: z.number().optional(), at: z.number(), deadline: z.number() }),
  z.object({ type: z.literal('run-end'), transient: name, task: name, runId: z.string(), at: z.number() }),
  /** A claim that succeeded, with the item version it produced. */
  z.object({ type: z.literal('claim'), transient: name, task: name, runId: z.string(), version: z.number(), at: z.number() }),
  /** A completion write (final status, or "not processed" while a retry waits), accepted or refused. */
  z.object({
    type: z.literal('settle'),
    transient: name,
    task: name,
    runId: z.string(),
    status: z.string(),
    ok: z.boolean(),
    version: z.number().optional(),
    at: z.number(),
  }),
  /** Registers rewritten as a whole (resets, dead letters, redrives), with the version produced. */
  z.object({ type: z.literal('write'), transient: name, statuses: z.record(z.string(), z.string()), version: z.number(), at: z.number() }),
  z.object({ type: z.literal('action'), action: z.string(), transient: name.optional(), detail: z.string().optional(), at: z.number() }),
  /** A task message that reached a queue (a runner's queue or its dead-letter queue); `at` is when the send began. */
  z.object({ type: z.literal('send'), messageId: z.string(), transient: name, task: name, g: z.number(), at: z.number() }),
  /** A message the event source deleted after its function handled it (SQS keeps its id when it moves it to a dead-letter queue). */
  z.object({ type: z.literal('delete'), messageId: z.string(), at: z.number() }),
  /** A write that moved a transient between the counters' buckets landed (no `from`: created; no `to`: deleted). */
  z.object({ type: z.literal('move'), transient: name, from: z.string().optional(), to: z.string().optional(), at: z.number() }),
  /** A counter update that reached the table, as it went on the wire (a resend would be a second event). */
  z.object({ type: z.literal('count'), delta: z.record(z.string(), z.number()), at: z.number() }),
]);
export type JournalEvent = z.infer<typeof journalEventSchema>;

/** Appends events to the journal file. */
export interface Journal {
  record(event: JournalEvent): void;
}

export const fileJournal = (file: string): Journal => ({
  record(event) {
    appendFileSync(file, `${JSON.stringify(event)}\n`);
  },
});

const parseLine = (file: string, line: string, number: number): JournalEvent => {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (cause) {
    throw new ConfigError(`${file}:${number}: not JSON`, { cause });
  }
  const parsed = journalEventSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(`${file}:${number}: not a journal event: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
};

/** Reads a journal back, validating every line; a bad line is named by its number. */
export const readJournal = (file: string): JournalEvent[] => {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, index) => (line.trim() === '' ? [] : [parseLine(file, line, index + 1)]));
};

/**
 * Follows a journal as it grows: each call returns every event so far, reading only the lines appended since the
 * last call (a run looks at its journal several times a second).
 */
export const followJournal = (file: string): (() => readonly JournalEvent[]) => {
  const events: JournalEvent[] = [];
  let offset = 0;
  let lines = 0;
  return () => {
    if (!existsSync(file)) return events;
    const buffer = readFileSync(file);
    // Only whole lines: one being appended right now is read next time.
    const end = buffer.lastIndexOf(0x0a) + 1;
    if (end > offset) {
      for (const line of buffer.subarray(offset, end).toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        lines += 1;
        events.push(parseLine(file, line, lines));
      }
      offset = end;
    }
    return events;
  };
};

/** Injected faults by kind, from a journal. */
export const faultCounts = (events: readonly JournalEvent[]): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const event of events) {
    const kind = event.type === 'fault' ? event.fault : event.type === 'action' ? event.action : undefined;
    if (kind) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
};
