import { type TaskContext, type Transient, TransientTaskRunner } from '../../lib/runner';

/** The example of Blast's "Task Runners" page, written in this project's API. */
export class PrintProcessing extends TransientTaskRunner {
  // Blast: task_name
  readonly taskName = 'Host information';

  // Blast: _prerequisites()
  readonly prerequisites = { 'Host match': 'processed', 'Cutout download': 'processed' };

  // Blast: _failed_status_message()
  readonly failedStatusMessage = 'failed';

  // Blast: _run_process(transient)
  process(transient: Transient, context: TaskContext) {
    context.logger.info('processing', { transient: transient.name });
    return 'processed';
  }
}
