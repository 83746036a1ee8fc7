/** `retrigger NAME` and `reprocess NAME`, and waiting for the transient to finish afterwards. */
import { ProcessingStatus, summarise } from '../domain/workflow';
import type { Engine } from '../engine/engine';
import { type ResetResult, reprocess, retrigger } from '../engine/operations';
import type { UnsentTask } from '../engine/transitions';
import { colorByProcessingStatus } from '../terminal/colors';
import { CliError } from './errors';
import { describeSendFailure } from './operator';
import type { Target } from './target';
import { renderStatus, unknownTransient } from './inspect';
import { plural } from './render';

const list = (tasks: readonly string[]) => tasks.join(', ');

/**
 * What a retrigger or reprocess did, in one line: what it reset, what it sent, and — never claimed as sent —
 * what it left to the dispatcher and what it could not send (`why` says why, in a few words).
 */
export const describeReset = (
  operation: 'retrigger' | 'reprocess',
  result: ResetResult,
  why: (failed: UnsentTask) => string = (failed) => failed.error?.message ?? 'the queue refused the message',
): string => {
  const { name, reset, sent, unsent, waiting, inFlight } = result;
  if (operation === 'retrigger' && reset.length === 0 && sent.length === 0 && unsent.length === 0 && waiting.length === 0) {
    if (result.before === ProcessingStatus.Completed) return `${name} is completed: nothing to retrigger (reprocess runs it again)`;
    return `${name}: nothing to retrigger${inFlight.length ? `; running now: ${list(inFlight)}` : ''}`;
  }
  const parts = [
    reset.length === 0
      ? 'no task to reset'
      : operation === 'reprocess'
        ? `${plural(reset.length, 'task')} reset to "not processed"`
        : `reset to "not processed": ${reset.map(({ task, from }) => `${task} (was ${from})`).join(', ')}`,
    ...(sent.length ? [`sent ${list(sent)}`] : []),
    ...(waiting.length ? [`left to the dispatcher's next run: ${list(waiting)}`] : []),
    ...(unsent.length
      ? [
          `not sent: ${unsent.map((failed) => `${failed.task} (${why(failed)})`).join(', ')}, recorded as ready for the dispatcher's next run`,
        ]
      : []),
  ];
  if (sent.length + waiting.length + unsent.length === 0) parts.push('nothing ready to send');
  if (inFlight.length > 0) {
    parts.push(
      operation === 'reprocess'
        ? `the result of the run in flight for ${list(inFlight)} will be discarded`
        : `left running: ${list(inFlight)}`,
    );
  }
  return `${operation === 'reprocess' ? 'reprocessing' : 'retriggered'} ${name}: ${parts.join('; ')}`;
};

/** Runs the operation and says what it did; fails (one line, exit 1) when a send it tried did not happen. */
export const resetCommand = async (engine: Engine, operation: 'retrigger' | 'reprocess', name: string, target: Target): Promise<string> => {
  const result = await (operation === 'reprocess' ? reprocess : retrigger)(engine, name);
  if (!result) throw unknownTransient(name, target.description);
  const line = describeReset(operation, result, (failed) => describeSendFailure(failed.error, target));
  if (result.unsent.length > 0) throw new CliError(line);
  return line;
};

/**
 * Polls the transient until it is completed or blocked, reporting its progress on `stream` as it changes,
 * and returns its status view.
 */
export const waitUntilFinished = async (engine: Engine, name: string, timeoutSeconds: number, stream: NodeJS.WriteStream): Promise<string[]> => {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let shown = '';
  for (;;) {
    const record = await engine.store.transients.get(name);
    if (!record) throw new CliError(`${name} was deleted while waiting for it`);
    const { progress, processingStatus } = summarise(engine.workflow, record.registers);
    const line = `progress ${progress}% · ${colorByProcessingStatus(processingStatus)(processingStatus)}`;
    if (line !== shown) {
      stream.write(stream.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
      shown = line;
    }
    if (processingStatus !== ProcessingStatus.Processing) {
      if (stream.isTTY) stream.write('\n');
      return renderStatus(engine.workflow, record, engine.clock());
    }
    if (Date.now() > deadline) {
      if (stream.isTTY) stream.write('\n');
      throw new CliError(`${name} is still processing after ${timeoutSeconds} s (${progress}%); \`status ${name}\` shows what it waits for`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};
