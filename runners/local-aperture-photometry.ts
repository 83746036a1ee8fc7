import { StatusMessage, TaskName } from '../lib/generated/fixtures';
import { type TaskContext, TransientTaskRunner } from '../lib/runner';
import { kpcPerArcsec } from './science/astro';
import { type CutoutOutput, type HostInformationOutput, type HostMatchOutput, type PhotometryOutput, requireOutput } from './outputs';
import { measure } from './science/photometry';
import { catalogHost, hostKnown } from './upstream';

/** Blast measures the host's light within 2 kpc of the transient. */
export const LOCAL_APERTURE_KPC = 2;
/** Below about the seeing, a local aperture is meaningless. */
export const MIN_LOCAL_RADIUS_ARCSEC = 1;

export class LocalAperturePhotometry extends TransientTaskRunner {
  readonly taskName = TaskName.LocalAperturePhotometry;
  readonly prerequisites = { ...hostKnown, [TaskName.LocalAperturePhotometry]: StatusMessage.NotProcessed };
  readonly failedStatusMessage = StatusMessage.Failed;
  // Reads only what earlier tasks saved; it runs again when they do.
  override readonly usesTransientFields = [];

  async process(_transient: unknown, context: TaskContext) {
    const [match, info, cutouts] = await Promise.all([
      requireOutput<HostMatchOutput>(context, TaskName.HostMatch),
      requireOutput<HostInformationOutput>(context, TaskName.HostInformation),
      requireOutput<CutoutOutput>(context, TaskName.CutoutDownload),
    ]);
    const radiusArcsec = LOCAL_APERTURE_KPC / kpcPerArcsec(info.redshift);
    if (radiusArcsec < MIN_LOCAL_RADIUS_ARCSEC) return StatusMessage.RedshiftTooHigh;
    const host = catalogHost(match.host);
    // Share of the host's light inside the local aperture, for an evenly lit ellipse.
    const fraction = Math.min(1, radiusArcsec ** 2 / (host.semiMajorArcsec ** 2 * host.axisRatio));
    const output: PhotometryOutput = {
      fluxes: measure(host.magnitudes, cutouts.filters, fraction, 2),
      radiusArcsec: Math.round(radiusArcsec * 100) / 100,
    };
    await context.save({ ...output });
    return StatusMessage.Processed;
  }
}
