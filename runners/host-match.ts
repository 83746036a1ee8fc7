import { StatusMessage, TaskName } from '../lib/generated/fixtures';
import { type TaskContext, type Transient, TransientField, TransientTaskRunner } from '../lib/runner';
import { angularSeparationDeg } from './science/astro';
import { hostCatalog } from './science/host-catalog';
import type { HostMatchOutput } from './outputs';

/** GHOST's search radius for a host, arcsec. */
export const HOST_SEARCH_RADIUS_ARCSEC = 30;

/** Matches the transient to the nearest catalogued galaxy within the search radius. */
export class HostMatch extends TransientTaskRunner {
  readonly taskName = TaskName.HostMatch;
  readonly prerequisites = {
    [TaskName.CutoutDownload]: StatusMessage.Processed,
    [TaskName.TransientMWEBV]: StatusMessage.Processed,
    [TaskName.HostMatch]: StatusMessage.NotProcessed,
  };
  readonly failedStatusMessage = StatusMessage.Failed;
  override readonly usesTransientFields = [TransientField.Coordinates];

  async process(transient: Transient, context: TaskContext) {
    const nearest = hostCatalog
      .map((host) => ({
        host: host.name,
        raDeg: host.raDeg,
        decDeg: host.decDeg,
        separationArcsec: 3600 * angularSeparationDeg(transient.raDeg, transient.decDeg, host.raDeg, host.decDeg),
      }))
      .reduce<HostMatchOutput | undefined>((best, next) => (!best || next.separationArcsec < best.separationArcsec ? next : best), undefined);
    if (!nearest || nearest.separationArcsec > HOST_SEARCH_RADIUS_ARCSEC) return StatusMessage.NoGHOSTMatch;
    await context.save({ ...nearest, separationArcsec: Math.round(nearest.separationArcsec * 100) / 100 });
    return StatusMessage.Processed;
  }
}
