/**
 * The fault-injection layer: an opt-in part of the engine's construction (lib/bootstrap.ts), configured by
 * CHAOS_PLAN like everything else by environment, so the handlers run unchanged. It wraps the runners
 * (throw, give up, return nonsense, overrun), wraps the store (crash before the completion write, a
 * dispatcher crash before its markers are deleted, a competing writer) and adds middleware to the AWS SDK
 * clients (throttling and lost responses inside the SDK's retry loop; refused, duplicated and delayed
 * SendMessageBatch entries). Every layer also writes the journal the invariant checks read.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  ProvisionedThroughputExceededException,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { RequestThrottled, type SQSClient, type SendMessageBatchCommandInput, type SendMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { z } from 'zod';
import { NonRetryableTaskError, TaskRunnerError } from '../domain/errors';
import type { Engine } from '../engine/engine';
import { type AnyRunner, type TaskContext, type Transient, type TransientTaskRunner, isTransientRunner } from '../runner';
import { type TaskStore, keys } from '../store/task-store';
import { queueNameOf } from '../queue/task-queues';
import { type Journal, fileJournal } from './journal';
import { CallCounter, Fault, FaultPlan, OperatorFault, type FaultPlanSpec, type Target, callFaults, runnerFaults, sendFaults } from './plan';

/** A simulated crash: the work stops here, as if the function had died; the message comes back later. */
export class InjectedCrashError extends TaskRunnerError {}

/** An error a runner "threw" because the plan said so. */
export class InjectedRunnerError extends TaskRunnerError {}

/** What a runner returns under the invalid-status fault: no fixture declares it. */
export const INVALID_STATUS = 'not a status (injected)';

/** How long past its deadline an overrunning runner keeps going. */
const OVERRUN_MS = 1_500;

const recordFault = (journal: Journal | undefined, fault: Fault, target: Target, detail?: string) =>
  journal?.record({ type: 'fault', fault, key: target.key, attempt: target.attempt, ...(detail === undefined ? {} : { detail }), at: Date.now() });

/** The runner with faults around its `process`, its runs journalled, and the plan's timeout if it sets one. */
export const withRunnerFaults = (runner: TransientTaskRunner, plan: FaultPlan, journal?: Journal): TransientTaskRunner => {
  const timeoutSeconds = plan.spec.timeoutSeconds ?? runner.timeoutSeconds;
  const task = runner.taskName;
  const process = async (transient: Transient, context: TaskContext): Promise<string> => {
    const started = Date.now();
    const run = { transient: transient.name, task, runId: context.runId };
    journal?.record({ type: 'run-start', ...run, at: started, deadline: started + timeoutSeconds * 1000 });
    try {
      const subject = `${transient.name}/${task}`;
      const target = { key: subject, subject, attempt: context.attempt };
      const fault = plan.choose(runnerFaults, target);
      if (fault) recordFault(journal, fault, target);
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
    } finally {
      journal?.record({ type: 'run-end', ...run, at: Date.now() });
    }
  };
  // The prototype keeps the runner's class (instanceof, settings, other members); only these two differ.
  return Object.create(runner, {
    timeoutSeconds: { value: timeoutSeconds, enumerable: true },
    process: { value: process, enumerable: true },
  }) as TransientTaskRunner;
};

/** The runners with the plan's timeout (the local runtime's queues and event sources need the same one). */
export const withPlanTimeouts = (runners: readonly AnyRunner[], spec: FaultPlanSpec): readonly AnyRunner[] => {
  const { timeoutSeconds } = spec;
  if (timeoutSeconds === undefined) return runners;
  return runners.map((runner) => (isTransientRunner(runner) ? (Object.create(runner, { timeoutSeconds: { value: timeoutSeconds, enumerable: true } }) as TransientTaskRunner) : runner));
};

/** The store with crashes and contention injected and every register write journalled. */
export const withStoreFaults = (store: TaskStore, doc: DynamoDBDocumentClient, plan: FaultPlan, journal?: Journal): TaskStore => {
  const calls = new CallCounter();

  /** A competing writer: what any claim or completion of another task does to the item's version. */
  const competingWrite = async (name: string) => {
    try {
      await doc.send(
        new UpdateCommand({
          TableName: store.tableName,
          Key: keys.transient(name),
          UpdateExpression: 'ADD #ver :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#ver': 'ver' },
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  };

  return {
    ...store,
    async claim(...args) {
      const [name, spec, register] = args;
      const result = await store.claim(...args);
      if (result.ok && register.claim !== undefined) {
        journal?.record({ type: 'claim', transient: name, task: spec.task, runId: register.claim, version: result.record.version, at: Date.now() });
      }
      return result;
    },
    async settle(...args) {
      const [name, task, claim, register] = args;
      const target = { key: `${name}/${task}`, subject: `${name}/${task}`, attempt: register.attempt ?? 1 };
      if (plan.hits(Fault.CrashBeforeSettle, target)) {
        recordFault(journal, Fault.CrashBeforeSettle, target);
        throw new InjectedCrashError(`injected crash of the worker before it recorded "${register.status}" for ${name}/${task}`);
      }
      const result = await store.settle(...args);
      journal?.record({
        type: 'settle',
        transient: name,
        task,
        runId: claim,
        status: register.status,
        ok: result.ok,
        ...(result.ok ? { version: result.record.version } : {}),
        at: Date.now(),
      });
      return result;
    },
    async replace(...args) {
      const [name, , registers] = args;
      const target = { key: `replace ${name}`, subject: name, attempt: calls.next(`replace ${name}`) };
      if (plan.hits(Fault.Contention, target)) {
        recordFault(journal, Fault.Contention, target);
        await competingWrite(name);
      }
      const result = await store.replace(...args);
      if (result.ok) {
        const statuses = Object.fromEntries(Object.entries(registers).flatMap(([task, register]) => (register ? [[task, register.status]] : [])));
        journal?.record({ type: 'write', transient: name, statuses, version: result.record.version, at: Date.now() });
      }
      return result;
    },
    async deleteMarkers(markers) {
      const [first] = markers;
      if (first) {
        const subject = `${first.name}/${first.task}`;
        const key = `deleteMarkers ${subject}`;
        const target = { key, subject, attempt: calls.next(key) };
        if (plan.hits(Fault.DispatcherCrash, target)) {
          recordFault(journal, Fault.DispatcherCrash, target);
          throw new InjectedCrashError(`injected crash after sending ${markers.length} ready ${first.task} tasks, before deleting their markers`);
        }
      }
      return store.deleteMarkers(markers);
    },
    async deleteTransient(name) {
      await store.deleteTransient(name);
      journal?.record({ type: 'action', action: OperatorFault.Delete, transient: name, at: Date.now() });
    },
  };
};

// What a call names, read loosely: only to aim faults (an unexpected shape just aims them less precisely).
const callInput = z.looseObject({
  Key: z.looseObject({ pk: z.looseObject({ S: z.string() }) }).optional(),
  TableName: z.string().optional(),
  QueueUrl: z.string().optional(),
});
const messageBody = z.looseObject({ transient: z.string(), task: z.string() });

const transientOfKey = (pk: string | undefined) => (pk?.startsWith('T#') ? pk.slice(2) : undefined);

const callTarget = (commandName: string, input: unknown): { key: string; subject?: string } => {
  const parsed = callInput.safeParse(input);
  const operation = commandName.replace(/Command$/, '');
  if (!parsed.success) return { key: operation };
  const pk = parsed.data.Key?.pk.S;
  const transient = transientOfKey(pk);
  const on = pk ?? (parsed.data.QueueUrl ? queueNameOf(parsed.data.QueueUrl) : parsed.data.TableName);
  return { key: `${operation} ${on ?? ''}`, ...(transient === undefined ? {} : { subject: transient }) };
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
 * Throttling and lost responses, placed right after the SDK's retry middleware so that the SDK's own
 * retry strategy (and its budget) deals with them, as it would with the real thing.
 */
export const injectCallFaults = (client: DynamoDBClient | SQSClient, service: Service, plan: FaultPlan, journal?: Journal) => {
  const calls = new CallCounter();
  const callNumbers = new WeakMap<object, number>();
  const middleware: FinalizeRequestMiddleware<object, object> = (next, context) => async (args) => {
    const { key, subject } = callTarget(context.commandName ?? '', args.input);
    const attempt = sdkAttempt(args.request);
    let call = callNumbers.get(args);
    if (call === undefined) {
      call = calls.next(key);
      callNumbers.set(args, call);
    }
    const target: Target = { key: `${key} #${call}`, attempt, ...(subject === undefined ? {} : { subject }) };
    const fault = plan.choose(callFaults, target);
    if (!fault) return next(args);
    if (fault === Fault.Throttle) {
      const error = throttlingError(service, `injected throttling of ${key}`, plan.pick(0, 1, fault, target));
      recordFault(journal, fault, target, error.name);
      throw error;
    }
    recordFault(journal, fault, target);
    await next(args);
    throw lostResponseError(`injected: the response of ${key} was lost`);
  };
  (client as DynamoDBClient).middlewareStack.addRelativeTo(middleware as never, {
    relation: 'after',
    toMiddleware: 'retryMiddleware',
    name: 'chaosCallFaults',
    override: true,
  });
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
        let subject: string | undefined;
        try {
          const message = messageBody.safeParse(JSON.parse(entry.MessageBody ?? '')).data;
          subject = message && `${message.transient}/${message.task}`;
        } catch {
          subject = undefined;
        }
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

export interface ChaosClients {
  readonly dynamo: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly doc: DynamoDBDocumentClient;
}

/** The engine with the plan's faults injected into its runners, store and clients, journalling as it goes. */
export const withFaults = (engine: Engine, clients: ChaosClients, spec: FaultPlanSpec): Engine => {
  const plan = new FaultPlan(spec);
  const journal = spec.journal ? fileJournal(spec.journal) : undefined;
  if (plan.injects(...callFaults)) {
    injectCallFaults(clients.dynamo, 'DynamoDB', plan, journal);
    injectCallFaults(clients.sqs, 'SQS', plan, journal);
  }
  if (plan.injects(...sendFaults)) injectSendFaults(clients.sqs, plan, journal);
  return {
    ...engine,
    runners: new Map([...engine.runners].map(([task, runner]) => [task, isTransientRunner(runner) ? withRunnerFaults(runner, plan, journal) : runner])),
    store: withStoreFaults(engine.store, clients.doc, plan, journal),
  };
};
