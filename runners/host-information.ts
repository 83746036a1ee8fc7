import { StatusMessage, TaskName } from '../lib/generated/fixtures';
import { type TaskContext, type Transient, TransientField, TransientTaskRunner } from '../lib/runner';
import { luminosityDistanceMpc } from './science/astro';
import { type HostInformationOutput, type HostMatchOutput, requireOutput } from './outputs';
import { catalogHost, hostMatched } from './upstream';

/** The host's redshift (the transient's own if it has one) and its distance. */
export class HostInformation extends TransientTaskRunner {
  readonly taskName = TaskName.HostInformation;
  readonly prerequisites = { ...hostMatched, [TaskName.HostInformation]: StatusMessage.NotProcessed };
  readonly failedStatusMessage = StatusMessage.Failed;
  override readonly usesTransientFields = [TransientField.Redshift];

  async process(transient: Transient, context: TaskContext) {
    const match = await requireOutput<HostMatchOutput>(context, TaskName.HostMatch);
    const hostRedshift = catalogHost(match.host).redshift;
    const redshift = transient.redshift ?? hostRedshift;
    if (redshift === undefined || !(redshift > 0)) return StatusMessage.NoHostRedshift;
    const output: HostInformationOutput = {
      redshift,
      redshiftSource: transient.redshift === undefined ? 'host' : 'transient',
      luminosityDistanceMpc: Math.round(luminosityDistanceMpc(redshift) * 10) / 10,
    };
    await context.save({ ...output });
    return StatusMessage.Processed;
  }
}
