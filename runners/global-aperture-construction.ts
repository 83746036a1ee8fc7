import { StatusMessage, TaskName } from '../lib/generated/fixtures';
import { type TaskContext, TransientTaskRunner } from '../lib/runner';
import { type ApertureOutput, type HostMatchOutput, requireOutput } from './outputs';
import { catalogHost, hostKnown } from './upstream';

/** Twice the host's isophotal radius, Kron-style, holds nearly all of its light. */
const KRON_FACTOR = 2;

/** The elliptical aperture that holds the whole host galaxy. */
export class GlobalApertureConstruction extends TransientTaskRunner {
  readonly taskName = TaskName.GlobalApertureConstruction;
  readonly prerequisites = { ...hostKnown, [TaskName.GlobalApertureConstruction]: StatusMessage.NotProcessed };
  readonly failedStatusMessage = StatusMessage.Failed;
  // Reads only what earlier tasks saved; it runs again when they do.
  override readonly usesTransientFields = [];

  async process(_transient: unknown, context: TaskContext) {
    const host = catalogHost((await requireOutput<HostMatchOutput>(context, TaskName.HostMatch)).host);
    const semiMajorArcsec = KRON_FACTOR * host.semiMajorArcsec;
    const output: ApertureOutput = {
      semiMajorArcsec,
      semiMinorArcsec: Math.round(semiMajorArcsec * host.axisRatio * 100) / 100,
      positionAngleDeg: host.positionAngleDeg,
    };
    await context.save({ ...output });
    return StatusMessage.Processed;
  }
}
