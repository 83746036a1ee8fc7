import { StatusMessage, TaskName } from '../lib/generated/fixtures';
import { type TaskContext, type Transient, TransientField, TransientTaskRunner } from '../lib/runner';
import { milkyWayEbv, toGalactic } from './science/astro';
import type { MwebvOutput } from './outputs';

/** Milky Way dust reddening towards the transient. */
export class TransientMwebv extends TransientTaskRunner {
  readonly taskName = TaskName.TransientMWEBV;
  readonly prerequisites = {
    [TaskName.CutoutDownload]: StatusMessage.Processed,
    [TaskName.TransientMWEBV]: StatusMessage.NotProcessed,
  };
  readonly failedStatusMessage = StatusMessage.Failed;
  override readonly usesTransientFields = [TransientField.Coordinates];

  async process(transient: Transient, context: TaskContext) {
    const ebv = milkyWayEbv(transient.raDeg, transient.decDeg);
    if (ebv === undefined) return StatusMessage.NoTransientMWEBV;
    const { l, b } = toGalactic(transient.raDeg, transient.decDeg);
    const output: MwebvOutput = { ebv, galacticL: l, galacticB: b };
    await context.save({ ...output });
    return StatusMessage.Processed;
  }
}
