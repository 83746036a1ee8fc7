import { StatusMessage, TaskName } from '../lib/generated/fixtures';
import { type TaskContext, TransientTaskRunner } from '../lib/runner';
import { milkyWayEbv, toGalactic } from './science/astro';
import { type HostMatchOutput, type MwebvOutput, requireOutput } from './outputs';
import { catalogHost, hostKnown } from './upstream';

/** Milky Way dust reddening towards the host galaxy. */
export class HostMwebv extends TransientTaskRunner {
  readonly taskName = TaskName.HostMWEBV;
  readonly prerequisites = { ...hostKnown, [TaskName.HostMWEBV]: StatusMessage.NotProcessed };
  readonly failedStatusMessage = StatusMessage.Failed;
  // Reads only what earlier tasks saved; it runs again when they do.
  override readonly usesTransientFields = [];

  async process(_transient: unknown, context: TaskContext) {
    const host = catalogHost((await requireOutput<HostMatchOutput>(context, TaskName.HostMatch)).host);
    const ebv = milkyWayEbv(host.raDeg, host.decDeg);
    if (ebv === undefined) return StatusMessage.NoHostMWEBV;
    const { l, b } = toGalactic(host.raDeg, host.decDeg);
    const output: MwebvOutput = { ebv, galacticL: l, galacticB: b };
    await context.save({ ...output });
    return StatusMessage.Processed;
  }
}
