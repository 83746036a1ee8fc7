/**
 * Artifact pruning: deletes the artifacts of every run that no register holds any more — a run superseded by a
 * retry or a reprocess, a run whose claim was lost, the runs of a deleted transient — and never those of the run a
 * register holds (finished, or still going). Works a listed page at a time: one batch read of the page's
 * transients, so memory stays flat and reads are bounded by the page, however many artifacts there are.
 *
 * Safe against runs going on meanwhile: an artifact listed was put after its run's claim was written (a run puts
 * only once it holds its claim), and the transients are read after the listing, so a run that is current when the
 * page is judged is seen as current.
 */
import { runOfArtifactKey } from '../domain/artifacts';
import { ConfigError } from '../domain/errors';
import type { ArtifactPruneReport } from '../runner';
import type { Engine } from './engine';

export const pruneArtifacts = async (engine: Engine, signal: AbortSignal, onFailure: (failure: { key: string; reason: string }) => void = () => undefined): Promise<ArtifactPruneReport> => {
  const store = engine.artifacts;
  if (!store) throw new ConfigError('ARTIFACT_LOCATION is not set: there are no artifacts to prune (s3://bucket/prefix/ or a directory)');
  const totals = { listed: 0, current: 0, deleted: 0, bytesDeleted: 0, failed: 0 };
  let stopped = false;
  for await (const page of store.list('', signal)) {
    totals.listed += page.length;
    const runs = page.map((object) => ({ object, run: runOfArtifactKey(object.key) }));
    const names = [...new Set(runs.flatMap(({ run }) => (run ? [run.transient] : [])))];
    const records = new Map((await engine.store.transients.getMany(names)).map((record) => [record.transient.name, record]));
    // A key that is no run's is left alone: nothing of the engine wrote it.
    const doomed = runs.filter(({ run }) => run && records.get(run.transient)?.registers[run.task]?.claim !== run.runId).map(({ object }) => object);
    totals.current += runs.filter(({ run }) => run).length - doomed.length;
    const failures = await store.delete(doomed.map((object) => object.key));
    failures.forEach(onFailure);
    const failedKeys = new Set(failures.map((failure) => failure.key));
    const deleted = doomed.filter((object) => !failedKeys.has(object.key));
    totals.deleted += deleted.length;
    totals.bytesDeleted += deleted.reduce((sum, object) => sum + object.size, 0);
    totals.failed += failures.length;
    if (signal.aborted) {
      stopped = true;
      break;
    }
  }
  return { location: store.location, ...totals, stopped };
};
