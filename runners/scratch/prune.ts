/**
 * Scratch pruning: deletes scratch objects older than a given age unless a transient still being processed
 * owns them (by convention, its scratch data lives under its name). Works a listed page at a time, so
 * memory stays flat and the cost is one status lookup per page, however much scratch data there is.
 */
import { ProcessingStatus } from '../../lib/domain/workflow';
import type { ScratchStore, SystemTaskContext } from '../../lib/runner';

/** The transient a scratch key belongs to, by the naming convention (its first path segment). */
export const transientOfKey = (key: string): string | undefined => {
  const [first, ...rest] = key.split('/');
  return first && rest.length > 0 ? first : undefined;
};

export interface PruneReport {
  readonly location: string;
  readonly listed: number;
  /** Old enough to go. */
  readonly old: number;
  /** Old but kept: their transient is still processing. */
  readonly kept: number;
  readonly deleted: number;
  readonly bytesDeleted: number;
  readonly failed: number;
  /** Stopped before the end because the function's time was running out. */
  readonly stopped: boolean;
}

export const pruneScratch = async (context: SystemTaskContext, store: ScratchStore, maxAgeMs: number): Promise<PruneReport> => {
  const cutoff = context.now() - maxAgeMs;
  const totals = { listed: 0, old: 0, kept: 0, deleted: 0, bytesDeleted: 0, failed: 0 };
  let stopped = false;
  for await (const page of store.list(context.signal)) {
    totals.listed += page.length;
    const old = page.filter((object) => object.lastModified.getTime() < cutoff);
    if (old.length === 0) continue;
    const owners = [...new Set(old.flatMap((object) => transientOfKey(object.key) ?? []))];
    const statuses = await context.processingStatuses(owners);
    const doomed = old.filter((object) => {
      const owner = transientOfKey(object.key);
      return owner === undefined || statuses.get(owner) !== ProcessingStatus.Processing;
    });
    const failures = await store.delete(doomed.map((object) => object.key));
    for (const failure of failures) context.logger.warn('scratch object not deleted', failure);
    const failedKeys = new Set(failures.map((failure) => failure.key));
    const deleted = doomed.filter((object) => !failedKeys.has(object.key));
    totals.old += old.length;
    totals.kept += old.length - doomed.length;
    totals.deleted += deleted.length;
    totals.bytesDeleted += deleted.reduce((sum, object) => sum + object.size, 0);
    totals.failed += failures.length;
    if (context.signal.aborted) {
      stopped = true;
      break;
    }
  }
  return { location: store.location, ...totals, stopped };
};
