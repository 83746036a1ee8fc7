/**
 * The faults that come from outside the handlers: an operator who reprocesses, retriggers or deletes a
 * transient while its tasks run, and poison messages (not JSON, not a task message, an unknown runner, an
 * unknown transient) sent straight to the queues. Decided by the seed, like the engine's faults.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Status } from '../domain/catalog';
import { deleteTransient } from '../engine/counts';
import type { Engine } from '../engine/engine';
import { reprocess, retrigger } from '../engine/operations';
import type { TransientRecord } from '../engine/store';
import { InvocationKilledError, asInvocation } from './invocation';
import type { Journal } from './journal';
import { OperatorFault, hashUnit } from './plan';

export interface DriverRates {
  /** Share of transients reprocessed (once) while one of their tasks runs. */
  readonly reprocess: number;
  readonly retrigger: number;
  readonly delete: number;
}

export const defaultDriverRates: DriverRates = { reprocess: 0.06, retrigger: 0.06, delete: 0.03 };

/** The kinds of poison message, each as a body for a queue of `task`. */
export const poisonMessages = (transient: string, task: string, now: number) => [
  { kind: 'not JSON', body: `{"transient": "${transient}", "task": ` },
  { kind: 'not a task message', body: JSON.stringify({ transient, readyAt: 'yesterday' }) },
  { kind: 'an unknown runner', body: JSON.stringify({ transient, task: 'No such runner', readyAt: now }) },
  { kind: 'an unknown transient', body: JSON.stringify({ transient: 'no-such-transient', task, readyAt: now }) },
  // DynamoDB refuses a key over 1,024 bytes (a ValidationException on every attempt, were it tried).
  { kind: 'a name over the key limit', body: JSON.stringify({ transient: `${transient}-${'x'.repeat(1_100)}`, task, readyAt: now }) },
  // Near SQS's message size limit; far more than a task message is.
  { kind: 'a body near the size limit', body: JSON.stringify({ transient, task, readyAt: now, padding: 'x'.repeat(200_000) }) },
];

/** How long the driver waits for an operator action before it counts it as a process that died. */
const ACTION_TIMEOUT_MS = 30_000;

export class ChaosDriver {
  private readonly acted = new Set<string>();

  constructor(
    private readonly engine: Engine,
    private readonly sqs: SQSClient,
    private readonly queueUrls: Readonly<Record<string, string>>,
    private readonly seed: number,
    private readonly rates: DriverRates,
    private readonly journal: Journal,
  ) {}

  /** Sends one poison message of each kind, each to a queue the seed picks. */
  async sendPoison(transient: string): Promise<void> {
    const tasks = Object.keys(this.queueUrls);
    const kinds = poisonMessages(transient, '', 0).length;
    for (let index = 0; index < kinds; index++) {
      const task = tasks[Math.floor(hashUnit(this.seed, 'poison', index) * tasks.length)];
      const QueueUrl = task === undefined ? undefined : this.queueUrls[task];
      const poison = task === undefined ? undefined : poisonMessages(transient, task, this.engine.clock())[index];
      if (task === undefined || QueueUrl === undefined || !poison) continue;
      await this.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: poison.body }));
      this.journal.record({ type: 'action', action: OperatorFault.Poison, detail: `${poison.kind} to the ${task} queue`, at: Date.now() });
    }
  }

  /**
   * Acts on transients with a task running, each at most once: the seed decides whether an operator
   * reprocesses, retriggers or deletes it now.
   */
  async step(records: readonly TransientRecord[]): Promise<void> {
    for (const record of records) {
      const name = record.transient.name;
      if (this.acted.has(name)) continue;
      const running = Object.entries(record.registers).filter(([, register]) => register?.status === Status.Processing).map(([task]) => task);
      if (running.length === 0) continue;
      this.acted.add(name);
      const draw = hashUnit(this.seed, 'operator', name);
      const { reprocess: r, retrigger: t, delete: d } = this.rates;
      const detail = `while ${running.join(', ')} ran`;
      if (draw < r) {
        this.journal.record({ type: 'action', action: OperatorFault.Reprocess, transient: name, detail, at: Date.now() });
        await this.act(() => reprocess(this.engine, name));
      } else if (draw < r + t) {
        this.journal.record({ type: 'action', action: OperatorFault.Retrigger, transient: name, detail, at: Date.now() });
        await this.act(() => retrigger(this.engine, name));
      } else if (draw < r + t + d) {
        // The journalled store records the deletion itself.
        await this.act(() => deleteTransient(this.engine, name));
      }
    }
  }

  /**
   * An operator's action, as the CLI on its own machine runs it: a process of its own, on a clock of its own,
   * which the plan may kill at any step (the action then stops where it died).
   */
  private async act(action: () => Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        asInvocation('operator', action),
        new Promise((resolve) => {
          timer = setTimeout(resolve, ACTION_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      if (!(error instanceof InvocationKilledError)) throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
