import { StatusMessage, TaskName } from '../lib/generated/fixtures';
import { type TaskContext, type Transient, TransientField, TransientTaskRunner } from '../lib/runner';
import { filtersCovering } from './science/surveys';
import { CUTOUT_INDEX, type CutoutIndex, type CutoutOutput } from './outputs';

/**
 * Finds the surveys with imaging at the transient (Blast downloads their cutouts here; this toy puts their index as
 * an artifact, where Blast's files would go).
 */
export class CutoutDownload extends TransientTaskRunner {
  readonly taskName = TaskName.CutoutDownload;
  readonly prerequisites = { [TaskName.CutoutDownload]: StatusMessage.NotProcessed };
  readonly failedStatusMessage = StatusMessage.Failed;
  override readonly usesTransientFields = [TransientField.Coordinates];
  override readonly usesArtifacts = true;
  // The first task: every bulk ingest lands in its ready index, so spread that over partitions.
  override readonly readyShards = 4;

  async process(transient: Transient, context: TaskContext) {
    const output: CutoutOutput = { filters: filtersCovering(transient.raDeg, transient.decDeg) };
    const index: CutoutIndex = { filters: output.filters };
    await context.artifacts.put(CUTOUT_INDEX, JSON.stringify(index), 'application/json');
    await context.save({ ...output });
    return StatusMessage.Processed;
  }
}
