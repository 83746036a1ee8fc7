import { StatusMessage, TaskName } from '../lib/generated/fixtures';
import { type TaskContext, type Transient, TransientField, TransientTaskRunner } from '../lib/runner';
import { filtersCovering } from './science/surveys';
import type { CutoutOutput } from './outputs';

/** Finds the surveys with imaging at the transient (Blast downloads their cutouts here). */
export class CutoutDownload extends TransientTaskRunner {
  readonly taskName = TaskName.CutoutDownload;
  readonly prerequisites = { [TaskName.CutoutDownload]: StatusMessage.NotProcessed };
  readonly failedStatusMessage = StatusMessage.Failed;
  override readonly usesTransientFields = [TransientField.Coordinates];
  // The first task: every bulk ingest lands in its ready index, so spread that over partitions.
  override readonly readyShards = 4;

  async process(transient: Transient, context: TaskContext) {
    const output: CutoutOutput = { filters: filtersCovering(transient.raDeg, transient.decDeg) };
    await context.save({ ...output });
    return StatusMessage.Processed;
  }
}
