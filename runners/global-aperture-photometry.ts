import { StatusMessage, TaskName } from '../lib/generated/fixtures';
import { type TaskContext, TransientTaskRunner } from '../lib/runner';
import { CUTOUT_INDEX, type CutoutIndex, type HostMatchOutput, type PhotometryOutput, requireJsonArtifact, requireOutput } from './outputs';
import { measure } from './science/photometry';
import { catalogHost, hostKnown } from './upstream';

/** Host flux in every filter with a cutout (Cutout download's artifact), through the global aperture. */
export class GlobalAperturePhotometry extends TransientTaskRunner {
  readonly taskName = TaskName.GlobalAperturePhotometry;
  readonly prerequisites = {
    ...hostKnown,
    [TaskName.GlobalApertureConstruction]: StatusMessage.Processed,
    [TaskName.GlobalAperturePhotometry]: StatusMessage.NotProcessed,
  };
  readonly failedStatusMessage = StatusMessage.Failed;
  // Reads only what earlier tasks saved; it runs again when they do.
  override readonly usesTransientFields = [];
  // The cutouts' index, an artifact of Cutout download.
  override readonly readsArtifacts = true;

  async process(_transient: unknown, context: TaskContext) {
    const [match, cutouts] = await Promise.all([
      requireOutput<HostMatchOutput>(context, TaskName.HostMatch),
      // The cutouts themselves, as Cutout download put them.
      requireJsonArtifact<CutoutIndex>(context, TaskName.CutoutDownload, CUTOUT_INDEX),
    ]);
    const output: PhotometryOutput = { fluxes: measure(catalogHost(match.host).magnitudes, cutouts.filters, 1, 1) };
    if (Object.keys(output.fluxes).length === 0) return StatusMessage.NoValidPhot;
    await context.save({ ...output });
    return StatusMessage.Processed;
  }
}
