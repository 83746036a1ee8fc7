import { ConfigError } from '../lib/domain/errors';
import { ScratchAccess, SystemCapability, type SystemTaskContext, SystemTaskRunner } from '../lib/runner';
import { pruneScratch } from './scratch/prune';
import { SystemTaskName } from './system-tasks';

/**
 * Blast's scratch clean-up: deletes scratch data (SCRATCH_LOCATION: an S3 prefix, or a directory here)
 * older than `maxAgeHours` that no unfinished transient still needs. A transient's data lives under its
 * name; data of a transient still processing is kept, whatever its age.
 */
export class PruneScratchData extends SystemTaskRunner {
  readonly taskName = SystemTaskName.PruneScratchData;
  override readonly frequencySeconds = 3600;
  override readonly timeoutSeconds = 300;
  override readonly scratchAccess = [ScratchAccess.List, ScratchAccess.Delete];
  // Keeps the data of transients still processing.
  override readonly uses = [SystemCapability.ProcessingStatuses];

  constructor(readonly maxAgeHours = 24) {
    super();
    if (!Number.isFinite(maxAgeHours) || maxAgeHours <= 0) {
      throw new ConfigError(`PruneScratchData: maxAgeHours must be a positive number of hours, not ${maxAgeHours}`);
    }
  }

  async process(context: SystemTaskContext) {
    const report = await pruneScratch(context, context.scratch(), this.maxAgeHours * 3_600_000);
    context.metric('ScratchObjectsDeleted', report.deleted);
    context.metric('ScratchBytesDeleted', report.bytesDeleted, 'Bytes');
    context.logger.info('scratch data pruned', { ...report });
  }
}
