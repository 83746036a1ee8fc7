/**
 * Run history and provenance: what each attempt records besides the register — its version, the fingerprint of its
 * inputs and the inputs themselves, where it ran and logged, what it put — as an item of its own, written once when
 * it ends (lib/engine/attempts.ts), kept for the retention the operator sets; and what is stale.
 */
import { type StaleReason, staleTasks } from '../domain/staleness';
import { priorityKey } from '../domain/ordering';
import type { Engine } from './engine';
import type { RunRecord, TransientRecord } from './store';
import { listTransients } from './operations';
import { currentTasksOf } from './attempts';

/**
 * The stale tasks of one transient, each with why (lib/domain/staleness.ts), against this engine's registry. Given its
 * run history, the inputs recorded by the runs the registers hold are checked too (an upstream run superseded).
 */
export const staleOf = (
  engine: Engine,
  record: Pick<TransientRecord, 'transient' | 'registers'>,
  runs: readonly RunRecord[] = [],
): ReadonlyMap<string, readonly StaleReason[]> => {
  const recorded = new Map(runs.filter((run) => record.registers[run.task]?.claim === run.run).map((run) => [run.task, run.inputs] as const));
  return staleTasks(engine.workflow, currentTasksOf(engine), record, recorded);
};

export interface StaleEntry {
  readonly record: TransientRecord;
  readonly reasons: readonly StaleReason[];
}

export interface StalePage {
  /** Transients whose `task` is stale, oldest public timestamp first. */
  readonly entries: StaleEntry[];
  /** The priority key to pass as `after` for the next page; absent when every transient was looked at. */
  readonly next?: string;
}

/** Transients looked at per read of the status index while looking for stale ones. */
const STALE_SCAN_PAGE = 100;

/**
 * Up to `limit` transients whose `task` is stale, oldest first, after the priority key `after`. It reads the
 * processing-status index and the transients a page at a time (never a table scan), until it has found `limit`. It
 * judges from the registers (versions, and stale upstream results), not the runs' recorded inputs, which would cost
 * a read of each transient's history.
 */
export const staleTransients = async (engine: Engine, task: string, options: { readonly limit: number; readonly after?: string }): Promise<StalePage> => {
  const entries: StaleEntry[] = [];
  let after = options.after;
  for (;;) {
    const page = await listTransients(engine, { limit: Math.max(options.limit, STALE_SCAN_PAGE), ...(after === undefined ? {} : { after }) });
    for (const record of page.records) {
      const reasons = staleOf(engine, record).get(task);
      if (reasons) entries.push({ record, reasons });
      if (entries.length === options.limit) {
        const last = page.records.at(-1) === record ? page.next : priorityKey(record.transient);
        return { entries, ...(last === undefined ? {} : { next: last }) };
      }
    }
    if (page.next === undefined) return { entries };
    after = page.next;
  }
};

/** Every attempt of a transient's tasks (or of one), newest first within each task, read page by page. */
export const historyOf = async (engine: Engine, name: string, task?: string): Promise<RunRecord[]> => {
  const runs: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await engine.store.history.list(name, task, 100, cursor);
    runs.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return runs;
};
