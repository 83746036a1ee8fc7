/**
 * The example workflow with no-op runners: the same tasks, prerequisites, failed statuses and settings as
 * runners/registry.ts, each returning "processed" at once. What remains to measure is the framework.
 */
import { registry as exampleRegistry } from '../runners/registry';
import { Status } from '../lib/domain/catalog';
import { type AnyRunner, TransientTaskRunner, isTransientRunner } from '../lib/runner';

class NoOpRunner extends TransientTaskRunner {
  readonly taskName: string;
  readonly prerequisites: TransientTaskRunner['prerequisites'];
  readonly failedStatusMessage: string;

  constructor(of: TransientTaskRunner) {
    super();
    this.taskName = of.taskName;
    this.prerequisites = of.prerequisites;
    this.failedStatusMessage = of.failedStatusMessage;
    // The settings decide queues, batches and concurrency: keep them as the real runner declares them.
    Object.assign(this, {
      frequencySeconds: of.frequencySeconds,
      initiallyEnabled: of.initiallyEnabled,
      memorySize: of.memorySize,
      timeoutSeconds: of.timeoutSeconds,
      batchSize: of.batchSize,
      maxConcurrency: of.maxConcurrency,
      maxReceiveCount: of.maxReceiveCount,
      readyShards: of.readyShards,
    });
  }

  process(): string {
    return Status.Processed;
  }
}

/** Transient runners become no-ops; system runners (none in the example) are left out. */
export const registry: readonly AnyRunner[] = exampleRegistry.filter(isTransientRunner).map((runner) => new NoOpRunner(runner));
