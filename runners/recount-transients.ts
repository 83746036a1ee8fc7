import { SystemCapability, type SystemTaskContext, SystemTaskRunner } from '../lib/runner';
import { SystemTaskName } from './system-tasks';

/**
 * Keeps the transient counters true: recounts every counter shard from the processing-status index (no read
 * of the transients themselves) and repairs those that drifted — a move lost when a process died between a
 * status write and its counter update, or a counter update that timed out. Logs what it repaired.
 */
export class RecountTransients extends SystemTaskRunner {
  readonly taskName = SystemTaskName.RecountTransients;
  override readonly frequencySeconds = 3_600;
  override readonly timeoutSeconds = 300;
  override readonly memorySize = 256;
  override readonly uses = [SystemCapability.Recount];

  async process(context: SystemTaskContext) {
    const result = await context.recount();
    context.metric('CountersRepaired', result.repaired);
    context.logger.info('counters recounted', { before: result.before, counted: result.counted, repaired: result.repaired, busy: result.busy });
  }
}
