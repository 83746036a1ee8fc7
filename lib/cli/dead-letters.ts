/** `dlq list RUNNER` and `dlq redrive RUNNER`: the dead letters a runner left, and sending them back. */
import { GetQueueAttributesCommand, type QueueAttributeName, type SQSClient } from '@aws-sdk/client-sqs';
import { statusTypeOf } from '../domain/catalog';
import { statusOf } from '../domain/workflow';
import type { Engine } from '../engine/engine';
import { deadLettersOf, redriveDeadLetters, registersOf } from '../engine/operations';
import { colorByType, colors } from '../terminal/colors';
import { slug } from '../queue/queue-settings';
import { type TransientTaskRunner, isTransientRunner } from '../runner';
import { CliError } from './errors';
import { describeSendFailure } from './operator';
import { formatTime, plural, renderTable } from './render';
import type { Target } from './target';

/** A runner named by its task ("Host match"), its class (HostMatch) or its queue's name (host-match). */
export const resolveRunner = (engine: Engine, name: string): TransientTaskRunner => {
  const wanted = name.trim().toLowerCase();
  const runners = [...engine.runners.values()].filter(isTransientRunner);
  const found = runners.find(
    (runner) => runner.taskName.toLowerCase() === wanted || runner.constructor.name.toLowerCase() === wanted || slug(runner.taskName) === wanted,
  );
  if (!found) throw new CliError(`unknown runner "${name}": the transient runners are ${runners.map((runner) => `"${runner.taskName}"`).join(', ')}`);
  return found;
};

/** Messages SQS still holds in the dead-letter queue (the dead-letter handler has not recorded them yet). */
const waitingInQueue = async (sqs: SQSClient, url: string | undefined): Promise<number> => {
  if (!url) return 0;
  const result = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  const count = (key: QueueAttributeName) => Number(result.Attributes?.[key] ?? 0) || 0;
  return count('ApproximateNumberOfMessages') + count('ApproximateNumberOfMessagesNotVisible');
};

const quote = (text: string) => (/^[\w.-]+$/.test(text) ? text : `"${text}"`);

export const showDeadLetters = async (engine: Engine, sqs: SQSClient, runner: TransientTaskRunner, deadLetterQueueUrl: string | undefined, cli: string): Promise<{ lines: string[]; data: unknown }> => {
  const task = runner.taskName;
  const [records, waiting] = await Promise.all([deadLettersOf(engine, task), waitingInQueue(sqs, deadLetterQueueUrl)]);
  const registers = await registersOf(engine, records.map((record) => record.name));
  const lines: string[] = [];
  if (records.length === 0) {
    lines.push(`no dead letters for ${task}`);
  } else {
    lines.push(`${task}: ${plural(records.length, 'dead letter')}`, '');
    const rows = records.map((record) => {
      const current = registers.get(record.name);
      // Unreadable messages name no transient; a transient may also have been deleted since.
      const status = current ? statusOf(current, task) : '—';
      return [
        record.name,
        formatTime(record.at),
        { text: String(record.receiveCount), alignRight: true },
        { text: status, paint: colorByType(statusTypeOf(engine.workflow.catalog, status)) },
        { text: record.reason, paint: colors.dim },
      ];
    });
    lines.push(...renderTable(['Transient', 'Dead-lettered at', 'Receives', 'Status now', 'Reason and last error'], rows));
  }
  if (waiting > 0) {
    lines.push('', `${plural(waiting, 'message')} still waiting in the dead-letter queue itself; the dead-letter handler records them shortly`);
  }
  if (records.length > 0) lines.push('', `send them back with: ${cli} dlq redrive ${quote(task)}`);
  const deadLetters = records.map((record) => {
    const current = registers.get(record.name);
    return { name: record.name, at: record.at, receiveCount: record.receiveCount, reason: record.reason, ...(current ? { statusNow: statusOf(current, task) } : {}) };
  });
  return { lines, data: { task, deadLetters, waitingInQueue: waiting } };
};

export interface RedriveReport {
  readonly lines: string[];
  readonly problems: string[];
  /** What `--json` prints. */
  readonly data: unknown;
}

export const redrive = async (engine: Engine, runner: TransientTaskRunner, names: readonly string[], target: Target): Promise<RedriveReport> => {
  const task = runner.taskName;
  const result = await redriveDeadLetters(engine, task, names);
  const problems = [
    ...result.skipped.map((skip) => `✗ ${skip.name}: not redriven: ${skip.reason}`),
    ...result.unsent.map(
      (failed) =>
        `✗ ${failed.name}: reset to "not processed" but not sent (${describeSendFailure(failed.error, target)}); recorded as ready for the dispatcher's next run, and the dead letter is kept`,
    ),
  ];
  const data = { task, redriven: result.redriven, problems };
  if (result.redriven.length === 0) return { lines: problems.length ? [] : [`no dead letters for ${task}: nothing to redrive`], problems, data };
  return {
    lines: [`sent ${plural(result.redriven.length, 'dead letter')} back to the ${task} queue: ${result.redriven.join(', ')}`],
    problems,
    data,
  };
};
