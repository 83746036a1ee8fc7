import { SystemCapability, type SystemTaskContext, SystemTaskRunner } from '../lib/runner';
import { SystemTaskName } from './system-tasks';

/** The snapshot's metrics (dimension task = "Snapshot task register"), for the dashboard. */
export const SnapshotMetric = {
  Waiting: 'WaitingTransients',
  Processing: 'ProcessingTransients',
  Blocked: 'BlockedTransients',
  Completed: 'CompletedTransients',
  Total: 'TotalTransients',
} as const;

/**
 * Blast's SnapshotTaskRegister: how many transients are waiting (nothing finished yet), processing,
 * blocked and completed, as metrics. The counts are kept as statuses change, so a snapshot reads a few
 * counter items rather than every transient.
 */
export class SnapshotTaskRegister extends SystemTaskRunner {
  readonly taskName = SystemTaskName.SnapshotTaskRegister;
  override readonly timeoutSeconds = 30;
  override readonly memorySize = 256;
  override readonly uses = [SystemCapability.Counts];

  async process(context: SystemTaskContext) {
    const counts = await context.counts();
    context.metric(SnapshotMetric.Waiting, counts.waiting);
    context.metric(SnapshotMetric.Processing, counts.processing);
    context.metric(SnapshotMetric.Blocked, counts.blocked);
    context.metric(SnapshotMetric.Completed, counts.completed);
    context.metric(SnapshotMetric.Total, counts.total);
    context.logger.info('task register snapshot', { ...counts });
  }
}
