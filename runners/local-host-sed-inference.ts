import { StatusMessage, TaskName } from '../lib/generated/fixtures';
import { type TaskContext, TransientTaskRunner } from '../lib/runner';
import { fitAndSave } from './science/sed';
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

  process(_transient: unknown, context: TaskContext) {
    return fitAndSave(context, {
      photometry: TaskName.LocalAperturePhotometry,
      validation: TaskName.ValidateLocalPhotometry,
      dust: TaskName.TransientMWEBV,
    });
  }
}
