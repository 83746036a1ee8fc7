import { StatusMessage, TaskName } from '../../lib/generated/fixtures';
import { type TaskContext, TransientTaskRunner } from '../../lib/runner';
import { type HostInformationOutput, type MwebvOutput, type PhotometryOutput, type ValidationOutput, requireOutput } from './outputs';
import { inferSed } from './sed';
import { globalPhotometryValid } from './upstream';

/** Stellar mass and star-formation rate of the whole host. */
export class GlobalHostSedInference extends TransientTaskRunner {
  readonly taskName = TaskName.GlobalHostSEDInference;
  readonly prerequisites = {
    ...globalPhotometryValid,
    [TaskName.HostMWEBV]: StatusMessage.Processed,
    [TaskName.GlobalHostSEDInference]: StatusMessage.NotProcessed,
  };
  readonly failedStatusMessage = StatusMessage.Failed;
  // Reads only what earlier tasks saved; it runs again when they do.
  override readonly usesTransientFields = [];
  override readonly timeoutSeconds = 300;
  override readonly memorySize = 1024;

  async process(_transient: unknown, context: TaskContext) {
    const [photometry, validation, info, dust] = await Promise.all([
      requireOutput<PhotometryOutput>(context, TaskName.GlobalAperturePhotometry),
      requireOutput<ValidationOutput>(context, TaskName.ValidateGlobalPhotometry),
      requireOutput<HostInformationOutput>(context, TaskName.HostInformation),
      requireOutput<MwebvOutput>(context, TaskName.HostMWEBV),
    ]);
    const sed = inferSed(photometry, validation.validFilters, info.luminosityDistanceMpc, info.redshift, dust.ebv);
    if (!sed) return StatusMessage.NoValidPhot;
    await context.save({ ...sed });
    return StatusMessage.Processed;
  }
}
