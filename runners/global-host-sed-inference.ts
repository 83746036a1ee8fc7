import { StatusMessage, TaskName } from '../lib/generated/fixtures';
import { type TaskContext, TransientTaskRunner } from '../lib/runner';
import { fitAndSave } from './science/sed';
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

  process(_transient: unknown, context: TaskContext) {
    return fitAndSave(context, {
      photometry: TaskName.GlobalAperturePhotometry,
      validation: TaskName.ValidateGlobalPhotometry,
      dust: TaskName.HostMWEBV,
    });
  }
}
