import { SystemCapability, type SystemTaskContext, SystemTaskRunner } from '../lib/runner';
import { SystemTaskName } from './system-tasks';

/**
 * The hourly check of the table's own bookkeeping:
 * - keeps the transient counters true: recounts every counter shard from the processing-status index (no read
 *   of the transients themselves) and repairs those that drifted — a move lost when a process died between a
 *   status write and its counter update, or a counter update that timed out;
 * - recovers stalled tasks: a "processing" transient's task that nothing will run any more (a run that died
 *   after its message was deleted, a retry whose message is gone) is reset and recorded as ready.
 * Logs what it repaired and recovered.
 */
export class RecountTransients extends SystemTaskRunner {
  readonly taskName = SystemTaskName.RecountTransients;
  override readonly frequencySeconds = 3_600;
  override readonly timeoutSeconds = 300;
  override readonly memorySize = 256;
  override readonly uses = [SystemCapability.Recount, SystemCapability.Recover];

  async process(context: SystemTaskContext) {
    const recovery = await context.recoverStalled();
    context.metric('StalledTasksRecovered', recovery.recovered.length);
    if (recovery.recovered.length > 0) context.logger.warn('stalled tasks recovered', { checked: recovery.checked, recovered: recovery.recovered });
    const result = await context.recount();
    context.metric('CountersRepaired', result.repaired);
    context.logger.info('counters recounted', { before: result.before, counted: result.counted, repaired: result.repaired, busy: result.busy });
  }
}
