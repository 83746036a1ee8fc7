import { ConfigError } from '../lib/domain/errors';
import { ScratchAccess, SystemCapability, type SystemTaskContext, SystemTaskRunner } from '../lib/runner';
import { pruneScratch } from './scratch/prune';
import { SystemTaskName } from './system-tasks';

/**
 * Blast's scratch clean-up: deletes scratch data (SCRATCH_LOCATION: an S3 prefix, or a directory here)
 * older than `maxAgeHours` that no unfinished transient still needs. A transient's data lives under its
 * name; data of a transient still processing is kept, whatever its age. Then the runs' artifacts
 * (ARTIFACT_LOCATION): those of every run no register holds any more (superseded by a retry or a reprocess, or
 * of a deleted transient) go, whatever their age; those of the runs the registers hold stay.
 */
export class PruneScratchData extends SystemTaskRunner {
  readonly taskName = SystemTaskName.PruneScratchData;
  override readonly frequencySeconds = 3600;
  override readonly timeoutSeconds = 300;
  override readonly scratchAccess = [ScratchAccess.List, ScratchAccess.Delete];
  // Keeps the data of transients still processing; prunes the artifacts of runs no register holds.
  override readonly uses = [SystemCapability.ProcessingStatuses, SystemCapability.PruneArtifacts];

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
    if (context.signal.aborted) return;
    const artifacts = await context.pruneArtifacts();
    context.metric('ArtifactsDeleted', artifacts.deleted);
    context.metric('ArtifactBytesDeleted', artifacts.bytesDeleted, 'Bytes');
    context.logger.info('artifacts of superseded runs pruned', { ...artifacts });
  }
}
