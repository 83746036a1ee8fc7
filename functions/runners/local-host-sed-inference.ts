import { StatusMessage, TaskName } from '../../lib/generated/fixtures';
import { type TaskContext, TransientTaskRunner } from '../../lib/runner';
import { type HostInformationOutput, type MwebvOutput, type PhotometryOutput, type ValidationOutput, requireOutput } from './outputs';
import { inferSed } from './sed';
import { localPhotometryValid } from './upstream';

/** Stellar mass and star-formation rate within 2 kpc of the transient. */
export class LocalHostSedInference extends TransientTaskRunner {
  readonly taskName = TaskName.LocalHostSEDInference;
  readonly prerequisites = { ...localPhotometryValid, [TaskName.LocalHostSEDInference]: StatusMessage.NotProcessed };
  readonly failedStatusMessage = StatusMessage.Failed;
  // Reads only what earlier tasks saved; it runs again when they do.
  override readonly usesTransientFields = [];
  override readonly timeoutSeconds = 300;
  override readonly memorySize = 1024;

  async process(_transient: unknown, context: TaskContext) {
    const [photometry, validation, info, dust] = await Promise.all([
      requireOutput<PhotometryOutput>(context, TaskName.LocalAperturePhotometry),
      requireOutput<ValidationOutput>(context, TaskName.ValidateLocalPhotometry),
      requireOutput<HostInformationOutput>(context, TaskName.HostInformation),
      requireOutput<MwebvOutput>(context, TaskName.TransientMWEBV),
    ]);
    const sed = inferSed(photometry, validation.validFilters, info.luminosityDistanceMpc, info.redshift, dust.ebv);
    if (!sed) return StatusMessage.NoValidPhot;
    await context.save({ ...sed });
    return StatusMessage.Processed;
  }
}
