import { StatusMessage, TaskName } from '../lib/generated/fixtures';
import { type TaskContext, TransientTaskRunner } from '../lib/runner';
import { validatePhotometry } from './science/photometry';
import { hostKnown } from './upstream';

/** SED fitting needs at least this many well-measured filters. */
export const MIN_GLOBAL_FILTERS = 3;

export class ValidateGlobalPhotometry extends TransientTaskRunner {
  readonly taskName = TaskName.ValidateGlobalPhotometry;
  readonly prerequisites = {
    ...hostKnown,
    [TaskName.GlobalApertureConstruction]: StatusMessage.Processed,
    [TaskName.GlobalAperturePhotometry]: StatusMessage.Processed,
    [TaskName.ValidateGlobalPhotometry]: StatusMessage.NotProcessed,
  };
  readonly failedStatusMessage = StatusMessage.PhotValidFailed;
  // Reads only what earlier tasks saved; it runs again when they do.
  override readonly usesTransientFields = [];

  process(_transient: unknown, context: TaskContext) {
    return validatePhotometry(context, TaskName.GlobalAperturePhotometry, MIN_GLOBAL_FILTERS, StatusMessage.NotEnoughFilters);
  }
}
