import { StatusMessage, TaskName } from '../lib/generated/fixtures';
import { type TaskContext, TransientTaskRunner } from '../lib/runner';
import { validatePhotometry } from './science/photometry';
import { hostKnown } from './upstream';

/** A local SED needs at least this many well-measured filters. */
export const MIN_LOCAL_FILTERS = 2;

export class ValidateLocalPhotometry extends TransientTaskRunner {
  readonly taskName = TaskName.ValidateLocalPhotometry;
  readonly prerequisites = {
    ...hostKnown,
    [TaskName.LocalAperturePhotometry]: StatusMessage.Processed,
    [TaskName.ValidateLocalPhotometry]: StatusMessage.NotProcessed,
  };
  readonly failedStatusMessage = StatusMessage.PhotValidFailed;
  // Reads only what earlier tasks saved; it runs again when they do.
  override readonly usesTransientFields = [];

  process(_transient: unknown, context: TaskContext) {
    return validatePhotometry(context, TaskName.LocalAperturePhotometry, MIN_LOCAL_FILTERS, StatusMessage.PhotValidFailed);
  }
}
