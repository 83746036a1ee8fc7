/**
 * The fault-injection layer: decorators the local runtime and the tests put around an engine as they build it
 * (`decorate` of lib/bootstrap/create-engine.ts), so the handlers run unchanged and no Lambda bundle carries any of it. It wraps the runners
 * (throw, give up, return nonsense, overrun), wraps the store and the queues (kill the invocation before a
 * call, after it landed or with it in flight; a competing writer), adds middleware to the AWS SDK clients
 * (throttling, throttle storms and lost responses inside the SDK's retry loop; transaction conflicts; refused
 * ChangeMessageVisibility; refused, duplicated and delayed SendMessageBatch entries), and puts every
 * invocation on a clock of its own. Every layer also writes the journal the invariant checks read.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type DynamoDBClient,
  ProvisionedThroughputExceededException,
  ThrottlingException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  ReceiptHandleIsInvalid,
  RequestThrottled,
  type SQSClient,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
} from '@aws-sdk/client-sqs';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { z } from 'zod';
import { RETRY_ONLY_THROTTLING } from '../bootstrap/aws-clients';
import { isCounterWrite } from '../store/dynamodb';
import { NonRetryableTaskError, TaskRunnerError } from '../domain/errors';
import type { EngineClients } from '../bootstrap/create-engine';
import type { Engine } from '../engine/engine';
import { queueNameOf } from '../queue/task-queues';
import { type AnyRunner, type TaskContext, type Transient, type TransientTaskRunner, isPythonRunner, isTransientRunner } from '../runner';
import { FUNCTION_TIMED_OUT, NON_RETRYABLE, type RunnerFunctions, RunnerFunctionError } from '../engine/runner-functions';
import type { CountBucket } from '../domain/counts';
import type { TaskStore } from '../engine/store';
import { currentInvocation, die } from './invocation';
import { type Journal, fileJournal } from './journal';
import {
  CallCounter,
  Fault,
  FaultPlan,
  type FaultPlanSpec,
  OperatorFault,
  type Target,
  callFaults,
  eventSourceFaults,
  runnerFaults,
  sendFaults,
  wholeCallFaults,
} from './plan';

/** An error a runner "threw" because the plan said so. */
export class InjectedRunnerError extends TaskRunnerError {}

/** What a runner returns under the invalid-status fault: no fixture declares it. */
export const INVALID_STATUS = 'not a status (injected)';

/** How long past its deadline an overrunning runner keeps going. */
const OVERRUN_MS = 1_500;
/** How long a call in flight when its process died takes to land. */
const LATE_LANDING_MS = { min: 100, max: 3_000 };

const recordFault = (journal: Journal | undefined, fault: Fault, target: Target, detail?: string) =>
  journal?.record({ type: 'fault', fault, key: target.key, attempt: target.attempt, ...(detail === undefined ? {} : { detail }), at: Date.now() });

interface RunOf {
  readonly transient: string;
  readonly task: string;
  readonly runId: string;
  readonly attempt: number;
}

/**
 * One run with its start and end journalled (its deadline `timeoutSeconds` after its start), and the runner fault
 * the plan draws for it handed to `work`, which injects it as its kind of runner would meet it.
 */
const journalledRun = async <T>(plan: FaultPlan, journal: Journal | undefined, timeoutSeconds: number, of: RunOf, work: (fault: Fault | undefined) => Promise<T>): Promise<T> => {
  const { attempt, ...run } = of;
  const started = Date.now();
  journal?.record({ type: 'run-start', ...run, attempt, at: started, deadline: started + timeoutSeconds * 1000 });
  try {
    const subject = `${run.transient}/${run.task}`;
    const target = { key: subject, subject, attempt };
    const fault = plan.choose(runnerFaults, target);
    if (fault) recordFault(journal, fault, target);
    return await work(fault);
  } finally {
    journal?.record({ type: 'run-end', ...run, at: Date.now() });
  }
};

/** The runner with faults around its `process`, its runs journalled, and the plan's timeout if it sets one. */
export const withRunnerFaults = (runner: TransientTaskRunner, plan: FaultPlan, journal?: Journal): TransientTaskRunner => {
  const timeoutSeconds = plan.spec.timeoutSeconds ?? runner.timeoutSeconds;
  const task = runner.taskName;
  const process = (transient: Transient, context: TaskContext): Promise<string> =>
    journalledRun(plan, journal, timeoutSeconds, { transient: transient.name, task, runId: context.runId, attempt: context.attempt }, async (fault) => {
      switch (fault) {
        case Fault.RunnerThrows:
          throw new InjectedRunnerError(`injected failure of ${task} on attempt ${context.attempt}`);
        case Fault.RunnerGivesUp:
          throw new NonRetryableTaskError(`injected non-retryable failure of ${task}`);
        case Fault.InvalidStatus:
          return INVALID_STATUS;
        case Fault.Overrun:
          // Keep going past the function's deadline (the signal fires a second before it).
          if (!context.signal.aborted) await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
          await sleep(OVERRUN_MS);
          break;
      }
      return await runner.process(transient, context);
    });
  // The prototype keeps the runner's class (instanceof, settings, other members); only these two differ.
  return Object.create(runner, {
    timeoutSeconds: { value: timeoutSeconds, enumerable: true },
    process: { value: process, enumerable: true },
  }) as TransientTaskRunner;
};

/**
 * The runners' own functions (Python runners) with the same runner faults and journal as `withRunnerFaults` puts
 * around `process`, each reported as the function would report it: a raised error, a status the fixtures do not
 * have, or a run past the function's timeout.
 */
export const withFunctionFaults = (functions: RunnerFunctions, engine: Engine, plan: FaultPlan, journal?: Journal): RunnerFunctions => ({
  run(task, event) {
    const runner = engine.runners.get(task);
    const timeoutSeconds = plan.spec.timeoutSeconds ?? runner?.timeoutSeconds ?? 0;
    const of = { transient: event.transient.name, task, runId: event.runId, attempt: event.attempt };
    return journalledRun(plan, journal, timeoutSeconds, of, async (fault) => {
      switch (fault) {
        case Fault.RunnerThrows:
          throw new RunnerFunctionError('InjectedRunnerError', `injected failure of ${task} on attempt ${event.attempt}`);
        case Fault.RunnerGivesUp:
          throw new RunnerFunctionError(NON_RETRYABLE, `injected non-retryable failure of ${task}`);
        case Fault.InvalidStatus:
          return { status: INVALID_STATUS };
        case Fault.Overrun: {
          const limit = runner && isPythonRunner(runner) ? runner.python.timeoutSeconds : timeoutSeconds;
          await sleep(limit * 1000);
          throw new RunnerFunctionError(FUNCTION_TIMED_OUT, `Task timed out after ${limit.toFixed(2)} seconds (injected overrun)`);
        }
      }
      return await functions.run(task, event);
    });
  },
});

/** The runners with the plan's timeout (the local runtime's queues and event sources need the same one). */
export const withPlanTimeouts = (runners: readonly AnyRunner[], spec: FaultPlanSpec): readonly AnyRunner[] => {
  const { timeoutSeconds } = spec;
  if (timeoutSeconds === undefined) return runners;
  return runners.map((runner) => (isTransientRunner(runner) ? (Object.create(runner, { timeoutSeconds: { value: timeoutSeconds, enumerable: true } }) as TransientTaskRunner) : runner));
};

/** What a store or queue call is about, for aiming: "transient/task", or the transient alone. */
const subjectOfCall = (args: readonly unknown[]): { subject?: string; attempt?: number } => {
  const [first, second, third, fourth] = args;
  const named = (value: unknown) =>
    typeof value === 'object' && value !== null && 'name' in value && 'task' in value && typeof value.name === 'string' && typeof value.task === 'string'
      ? { subject: `${value.name}/${value.task}` }
      : {};
  // Ready markers (the first one's transient and task), a dead-letter record.
  if (Array.isArray(first)) return named(first[0]);
  if (typeof first !== 'string') return named(first);
  const task = typeof second === 'string' ? second : typeof second === 'object' && second !== null && 'task' in second ? String(second.task) : undefined;
  const register = [third, fourth].find((arg): arg is { attempt?: number } => typeof arg === 'object' && arg !== null && 'attempt' in arg);
  return { subject: task === undefined ? first : `${first}/${task}`, ...(register?.attempt === undefined ? {} : { attempt: register.attempt }) };
};

/**
 * Every method of `target` becomes a step at which the plan may kill the invocation it runs in: before the
 * call, with the call in flight (it lands later, after the invocation is gone), or after it landed (its reply
 * is never seen). A dead invocation's later steps never run.
 */
export const withKills = <T extends object>(
  target: T,
  plan: FaultPlan,
  journal: Journal | undefined,
  {
    subjectOf = subjectOfCall,
    synchronous = [],
    prefix,
  }: { subjectOf?: typeof subjectOfCall; synchronous?: readonly string[]; /** Names the steps "<prefix>.<method>". */ prefix?: string } = {},
): T => {
  if (!plan.injects(Fault.Kill)) return target;
  const calls = new CallCounter();
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== 'function' || synchronous.includes(String(property))) return value;
      const method = prefix === undefined ? String(property) : `${prefix}.${String(property)}`;
      return async (...args: unknown[]) => {
        const invocation = currentInvocation();
        if (!invocation) return value.apply(object, args);
        if (invocation.dead) return die(invocation);
        const { subject, attempt } = subjectOf(args);
        const call = calls.next(`${invocation.host} ${method} ${subject ?? ''}`);
        const aim = (phase: string): Target => ({
          key: `${phase} ${method} ${subject ?? ''} #${call}`,
          ...(subject === undefined ? {} : { subject }),
          attempt: attempt ?? call,
          step: `${phase} ${method}`,
        });
        const kill = (phase: string) => {
          const target = aim(phase);
          if (!plan.hits(Fault.Kill, target)) return false;
          recordFault(journal, Fault.Kill, target, `${invocation.host} died ${phase === 'after' ? 'after' : phase === 'before' ? 'before' : 'during'} ${method}`);
          return true;
        };
        if (kill('before')) return die(invocation);
        if (kill('during')) {
          const target = aim('during');
          const delay = plan.pick(LATE_LANDING_MS.min, LATE_LANDING_MS.max, Fault.Kill, target);
          // The request already left: it lands a little later, whatever happens to its process.
          void sleep(delay)
            .then(() => value.apply(object, args))
            .catch(() => undefined);
          return die(invocation);
        }
        const result = await value.apply(object, args);
        if (invocation.dead) return die(invocation);
        if (kill('after')) return die(invocation);
        return result;
      };
    },
  });
};

/** The store with each concern's methods made kill steps, named "<concern>.<method>" (e.g. "transients.settle"). */
export const withConcernKills = (store: TaskStore, plan: FaultPlan, journal: Journal | undefined): TaskStore =>
  Object.fromEntries(Object.entries(store).map(([concern, methods]) => [concern, withKills(methods as object, plan, journal, { prefix: concern })])) as unknown as TaskStore;

/**
 * The store with its writes journalled — claims, completions, resets, and every move of a transient between the
 * counters' buckets — and competing writers injected before compare-and-set writes.
 */
export const withStoreFaults = (store: TaskStore, plan: FaultPlan, journal?: Journal): TaskStore => {
  const calls = new CallCounter();
  const { transients } = store;
  const move = (transient: string, from: CountBucket | undefined, to: CountBucket | undefined) => {
    if (from !== to) journal?.record({ type: 'move', transient, ...(from ? { from } : {}), ...(to ? { to } : {}), at: Date.now() });
  };

  /** A competing writer: another write to the transient (a claim or completion of another task) lands first. */
  const competingWrite = async (name: string) => {
    const current = await transients.get(name);
    if (current) await transients.replace(name, current, {}, current.bucket);
  };

  return {
    ...store,
    transients: {
      ...transients,
      async create(entries, now) {
        const result = await transients.create(entries, now);
        const created = new Set(result.created);
        for (const entry of entries) if (created.has(entry.transient.name)) move(entry.transient.name, undefined, entry.bucket);
        return result;
      },
      async claim(name, spec, register, now) {
        const result = await transients.claim(name, spec, register, now);
        if (result.ok && register.claim !== undefined) {
          journal?.record({ type: 'claim', transient: name, task: spec.task, runId: register.claim, version: result.record.version, at: Date.now() });
        }
        return result;
      },
      async settle(name, task, token, register, bucketMove) {
        const result = await transients.settle(name, task, token, register, bucketMove);
        journal?.record({
          type: 'settle',
          transient: name,
          task,
          runId: token,
          status: register.status,
          ok: result.ok,
          ...(result.ok ? { version: result.record.version } : {}),
          at: Date.now(),
        });
        if (result.ok && result.bucketWritten && bucketMove) move(name, bucketMove.from, bucketMove.to);
        return result;
      },
      async replace(name, expected, registers, bucket, options) {
        const target = { key: `replace ${name}`, subject: name, attempt: calls.next(`replace ${name}`) };
        if (plan.hits(Fault.Contention, target)) {
          recordFault(journal, Fault.Contention, target);
          await competingWrite(name);
        }
        const result = await transients.replace(name, expected, registers, bucket, options);
        if (result.ok) {
          const statuses = Object.fromEntries(Object.entries(registers).flatMap(([task, register]) => (register ? [[task, register.status]] : [])));
          journal?.record({ type: 'write', transient: name, statuses, version: result.record.version, at: Date.now() });
          move(name, expected.bucket, bucket);
        }
        return result;
      },
      async setBucket(name, bucketMove, writer) {
        const moved = await transients.setBucket(name, bucketMove, writer);
        if (moved) move(name, bucketMove.from, bucketMove.to);
        return moved;
      },
      async delete(name) {
        const old = await transients.delete(name);
        journal?.record({ type: 'action', action: OperatorFault.Delete, transient: name, at: Date.now() });
        if (old) move(name, old.bucket, undefined);
        return old;
      },
    },
    counters: {
      ...store.counters,
      // A repair sets a shard's counts; journalled as what it added to the counts it replaced.
      async repairShard(shard, version, counts) {
        const before = await store.counters.readShard(shard);
        const repaired = await store.counters.repairShard(shard, version, counts);
        if (repaired && before.version === version) {
          journal?.record({ type: 'count', delta: Object.fromEntries(Object.entries(counts).map(([bucket, count]) => [bucket, count - (before.counts[bucket as CountBucket] ?? 0)])), at: Date.now() });
        }
        return repaired;
      },
    },
  };
};

// What a call names, read loosely: only to aim faults (an unexpected shape just aims them less precisely).
const keyed = z.looseObject({ pk: z.looseObject({ S: z.string() }) });
const callInput = z.looseObject({
  Key: keyed.optional(),
  TableName: z.string().optional(),
  QueueUrl: z.string().optional(),
  // A transaction: aimed by its first item's key.
  TransactItems: z.array(z.record(z.string(), z.looseObject({ Key: keyed.optional(), Item: keyed.optional() }))).optional(),
});
const messageBody = z.looseObject({ transient: z.string(), task: z.string(), g: z.number().optional() });

const transientOfKey = (pk: string | undefined) => (pk?.startsWith('T#') ? pk.slice(2) : undefined);

const callTarget = (commandName: string, input: unknown): { key: string; subject?: string } => {
  const parsed = callInput.safeParse(input);
  const operation = commandName.replace(/Command$/, '');
  if (!parsed.success) return { key: operation };
  const [first] = Object.values(parsed.data.TransactItems?.[0] ?? {});
  const pk = parsed.data.Key?.pk.S ?? first?.Key?.pk.S ?? first?.Item?.pk.S;
  const transient = transientOfKey(pk);
  const queue = parsed.data.QueueUrl ? queueNameOf(parsed.data.QueueUrl) : undefined;
  const on = pk ?? queue ?? parsed.data.TableName;
  // Aimed by transient (or the key itself, e.g. "COUNTS#3") on DynamoDB, by queue name on SQS.
  const subject = transient ?? pk ?? queue;
  return { key: `${operation} ${on ?? ''}`, ...(subject === undefined ? {} : { subject }) };
};

/** The task message a body carries, if it is one. */
export const messageOf = (body: string | undefined): { transient: string; task: string; g: number } | undefined => {
  try {
    const parsed = messageBody.safeParse(JSON.parse(body ?? ''));
    return parsed.success ? { transient: parsed.data.transient, task: parsed.data.task, g: parsed.data.g ?? 0 } : undefined;
  } catch {
    return undefined;
  }
};

const requestHeader = (request: unknown, header: string): string | undefined => {
  const parsed = z.looseObject({ headers: z.record(z.string(), z.string()) }).safeParse(request);
  return parsed.success ? parsed.data.headers[header] : undefined;
};

/** The SDK attempt an HTTP request is (the retry middleware writes `amz-sdk-request: attempt=N; max=M`). */
const sdkAttempt = (request: unknown) => Number(/attempt=(\d+)/.exec(requestHeader(request, 'amz-sdk-request') ?? '')?.[1] ?? 1);

type Service = 'DynamoDB' | 'SQS';

const throttlingError = (service: Service, message: string, variant: number) => {
  const $metadata = { httpStatusCode: 400 };
  if (service === 'SQS') return new RequestThrottled({ message, $metadata });
  return variant === 0 ? new ProvisionedThroughputExceededException({ message, $metadata }) : new ThrottlingException({ message, $metadata });
};

/** What a socket timeout looks like to the SDK's retry strategy (a transient error). */
const lostResponseError = (message: string) => Object.assign(new Error(message), { name: 'TimeoutError', $metadata: {} });

/**
 * The buckets a counter update adds to, read from its wire input (`ADD #n0 :v0, …`; the version `cv` left out).
 * A recount's repair (a `SET`) is journalled by the store wrapper instead, which knows what it replaced.
 */
const counterDelta = (input: unknown): Record<string, number> | undefined => {
  const parsed = z
    .looseObject({
      UpdateExpression: z.string(),
      ExpressionAttributeNames: z.record(z.string(), z.string()),
      ExpressionAttributeValues: z.record(z.string(), z.looseObject({ N: z.string() })),
    })
    .safeParse(input);
  if (!parsed.success || !parsed.data.UpdateExpression.startsWith('ADD ')) return undefined;
  const { UpdateExpression, ExpressionAttributeNames: names, ExpressionAttributeValues: values } = parsed.data;
  const delta: Record<string, number> = {};
  for (const [, name, value] of UpdateExpression.matchAll(/(#\w+) (:\w+)/g)) {
    const bucket = names[name ?? ''];
    const amount = Number(values[value ?? '']?.N);
    if (bucket && bucket !== 'cv' && Number.isFinite(amount)) delta[bucket] = amount;
  }
  return delta;
};

/** The messages a send put on the queue: each successful entry's body and the id SQS gave it. */
const sentEntries = (input: unknown, output: unknown): { body: string | undefined; messageId: string }[] => {
  const { Entries, MessageBody } = input as Partial<SendMessageBatchCommandInput> & { MessageBody?: string };
  const result = output as Partial<SendMessageBatchCommandOutput> & { MessageId?: string };
  if (MessageBody !== undefined) return result.MessageId ? [{ body: MessageBody, messageId: result.MessageId }] : [];
  const bodies = new Map((Entries ?? []).map((entry) => [entry.Id, entry.MessageBody]));
  return (result.Successful ?? []).flatMap((entry) => (entry.MessageId ? [{ body: bodies.get(entry.Id), messageId: entry.MessageId }] : []));
};

/**
 * Throttling, throttle storms, lost responses, transaction conflicts and refused visibility changes, placed right
 * after the SDK's retry middleware so that the SDK's own retry strategy (and its budget) deals with them, as it
 * would with the real thing. On SQS it also journals every task message that reached a queue.
 */
export const instrumentClient = (client: DynamoDBClient | SQSClient, service: Service, plan: FaultPlan, journal?: Journal) => {
  const calls = new CallCounter();
  const callNumbers = new WeakMap<object, { call: number; whole?: Fault }>();
  const middleware: FinalizeRequestMiddleware<object, object> = (next, context) => async (args) => {
    const commandName = context.commandName ?? '';
    const { key, subject } = callTarget(commandName, args.input);
    const attempt = sdkAttempt(args.request);
    let decided = callNumbers.get(args);
    if (decided === undefined) {
      const call = calls.next(key);
      const whole = plan.choose(
        wholeCallFaults.filter(
          (fault) =>
            fault === Fault.ThrottleStorm ||
            (fault === Fault.TransactionConflict && commandName === 'TransactWriteItemsCommand') ||
            (fault === Fault.VisibilityChangeFails && commandName === 'ChangeMessageVisibilityCommand'),
        ),
        // The nth call of this key is its nth try.
        { key: `${key} #${call}`, attempt: call, ...(subject === undefined ? {} : { subject }) },
      );
      decided = { call, ...(whole ? { whole } : {}) };
      callNumbers.set(args, decided);
    }
    const target: Target = { key: `${key} #${decided.call}`, attempt, ...(subject === undefined ? {} : { subject }) };
    switch (decided.whole) {
      case Fault.ThrottleStorm: {
        const error = throttlingError(service, `injected throttle storm on ${key}`, plan.pick(0, 1, Fault.Throttle, target));
        // One fault per call, however many attempts it throttles.
        if (attempt === 1) recordFault(journal, Fault.ThrottleStorm, target, error.name);
        throw error;
      }
      case Fault.TransactionConflict: {
        recordFault(journal, Fault.TransactionConflict, target);
        const items = ((args.input as { TransactItems?: unknown[] }).TransactItems ?? []).map(() => ({ Code: 'TransactionConflict' }));
        throw new TransactionCanceledException({ message: `injected: ${key} cancelled by a conflicting transaction`, $metadata: { httpStatusCode: 400 }, CancellationReasons: items });
      }
      case Fault.VisibilityChangeFails:
        recordFault(journal, Fault.VisibilityChangeFails, target);
        throw new ReceiptHandleIsInvalid({ message: `injected: the receipt handle of ${key} has expired`, $metadata: { httpStatusCode: 400 } });
    }
    const fault = plan.choose(callFaults, target);
    if (fault === Fault.Throttle) {
      const error = throttlingError(service, `injected throttling of ${key}`, plan.pick(0, 1, fault, target));
      recordFault(journal, fault, target, error.name);
      throw error;
    }
    const began = Date.now();
    const result = await next(args);
    const delta = isCounterWrite(commandName, args.input) ? counterDelta(args.input) : undefined;
    if (delta) journal?.record({ type: 'count', delta, at: Date.now() });
    if (journal && (commandName === 'SendMessageBatchCommand' || commandName === 'SendMessageCommand')) {
      for (const { body, messageId } of sentEntries(args.input, result.output)) {
        const message = messageOf(body);
        if (message) journal.record({ type: 'send', messageId, ...message, at: began });
      }
    }
    if (fault === Fault.LostResponse) {
      recordFault(journal, fault, target);
      throw lostResponseError(`injected: the response of ${key} was lost`);
    }
    return result;
  };
  // Inside the SDK's retry loop, and inside the client's own classification of what may be retried.
  const stack = (client as DynamoDBClient).middlewareStack;
  const inner = stack.identify().some((entry) => entry.startsWith(`${RETRY_ONLY_THROTTLING} `)) ? RETRY_ONLY_THROTTLING : 'retryMiddleware';
  stack.addRelativeTo(middleware as never, { relation: 'after', toMiddleware: inner, name: 'chaosCallFaults', override: true });
};

/** Refused, duplicated and delayed entries of SendMessageBatch, decided entry by entry. */
export const injectSendFaults = (client: SQSClient, plan: FaultPlan, journal?: Journal) => {
  const sends = new CallCounter();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'SendMessageBatchCommand') return next(args);
      const input = args.input as SendMessageBatchCommandInput;
      const queue = queueNameOf(input.QueueUrl ?? '');
      const failed: NonNullable<SendMessageBatchCommandOutput['Failed']> = [];
      const entries: NonNullable<SendMessageBatchCommandInput['Entries']> = [];
      const duplicates: NonNullable<SendMessageBatchCommandInput['Entries']> = [];
      for (const entry of input.Entries ?? []) {
        const message = messageOf(entry.MessageBody);
        const subject = message && `${message.transient}/${message.task}`;
        const key = `${queue} ${entry.MessageBody}`;
        const target: Target = { key, attempt: sends.next(key), ...(subject === undefined ? {} : { subject }) };
        const fault = plan.choose(sendFaults, target);
        if (fault) recordFault(journal, fault, target);
        if (fault === Fault.PartialSendFailure) {
          failed.push({ Id: entry.Id, SenderFault: false, Code: 'InternalError', Message: 'injected: entry refused' });
          continue;
        }
        if (fault === Fault.DelayedSend) entries.push({ ...entry, DelaySeconds: plan.pick(1, 5, fault, target) });
        else entries.push(entry);
        if (fault === Fault.DuplicateSend) duplicates.push({ ...entry, Id: `${entry.Id}-again` });
      }
      const result =
        entries.length > 0
          ? await next({ ...args, input: { ...input, Entries: entries } })
          : { response: undefined, output: { $metadata: {}, Successful: [], Failed: [] } };
      if (duplicates.length > 0) await next({ ...args, input: { ...input, Entries: duplicates } });
      const output = result.output as SendMessageBatchCommandOutput;
      return { ...result, output: { ...output, Failed: [...(output.Failed ?? []), ...failed] } };
    },
    { step: 'initialize', name: 'chaosSendFaults', override: true },
  );
};

/** What the local runtime's event source asks before and during an invocation (the Lambda SQS event source mapping's faults). */
export interface EventSourceChaos {
  /** Which of the event source's faults hits this batch (decided per message and receive). */
  batchFault(queue: string, messages: readonly { readonly body: string | undefined; readonly receiveCount: number }[]): Fault | undefined;
  /** Journals the messages the event source deleted. */
  deleted(messageIds: readonly (string | undefined)[], at: number): void;
}

export const eventSourceChaos = (spec: FaultPlanSpec): EventSourceChaos => {
  const plan = new FaultPlan(spec);
  const journal = spec.journal ? fileJournal(spec.journal) : undefined;
  return {
    batchFault(queue, messages) {
      // Decided per message and receive: the first message of the batch that draws a fault brings it on the batch,
      // and the journal records it for every message of the batch, since each of them met it.
      const targets = messages.map(({ body, receiveCount }): Target => {
        const message = messageOf(body);
        const subject = message && `${message.transient}/${message.task}`;
        return { key: `${queue} ${body}`, attempt: receiveCount, ...(subject === undefined ? {} : { subject }) };
      });
      const fault = targets.map((target) => plan.choose(eventSourceFaults, target)).find((drawn) => drawn !== undefined);
      if (fault) for (const target of targets) recordFault(journal, fault, target);
      return fault;
    },
    deleted(messageIds, at) {
      for (const messageId of messageIds) if (messageId) journal?.record({ type: 'delete', messageId, at });
    },
  };
};


/**
 * The engine with the plan's faults injected into its runners, store, queues and clients, journalling as it
 * goes; `host` names its function, whose invocations each get a clock of their own.
 */
export const withFaults = (engine: Engine, clients: EngineClients, spec: FaultPlanSpec, host: string): Engine => {
  const plan = new FaultPlan(spec);
  const journal = spec.journal ? fileJournal(spec.journal) : undefined;
  instrumentClient(clients.dynamo, 'DynamoDB', plan, journal);
  instrumentClient(clients.sqs, 'SQS', plan, journal);
  if (plan.injects(...sendFaults)) injectSendFaults(clients.sqs, plan, journal);
  const clock = spec.clockSkewMs ? () => Date.now() + plan.clockOffset(currentInvocation()?.id ?? host) : engine.clock;
  return {
    ...engine,
    clock,
    runners: new Map([...engine.runners].map(([task, runner]) => [task, isTransientRunner(runner) ? withRunnerFaults(runner, plan, journal) : runner])),
    ...(engine.functions ? { functions: withFunctionFaults(engine.functions, engine, plan, journal) } : {}),
    store: withConcernKills(withStoreFaults(engine.store, plan, journal), plan, journal),
    queues: withKills(engine.queues, plan, journal, {
      synchronous: ['has'],
      subjectOf: (args) => {
        const [task, messages] = args;
        const [first] = Array.isArray(messages) ? (messages as { transient?: unknown }[]) : [];
        return typeof task === 'string' && typeof first?.transient === 'string' ? { subject: `${first.transient}/${task}` } : {};
      },
    }),
  };
};
