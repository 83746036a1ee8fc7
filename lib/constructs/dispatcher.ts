/**
 * The dispatcher: every transient runner's schedule invokes it with the runner's task; it reads that
 * task's ready markers and sends them to the runner's queue. It may send to the queues of the runners it
 * dispatches and nowhere else, and reach in the table only their ready markers and dispatch locks.
 */
import { Lazy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../settings/config';
import { DISPATCHER_STORE_USE } from '../engine/store-use';
import { dispatcherSettings } from '../settings/framework-functions';
import { ServiceName } from '../engine/telemetry';
import { HandlerFunction } from './handler-function';

export interface DispatcherProps {
  readonly table: ITable;
  /** The fixture files' folder on this machine. */
  readonly fixturesDir: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

export class Dispatcher extends Construct {
  readonly handler: HandlerFunction;
  private readonly queueUrls: Record<string, string> = {};
  /** The items it may reach: the ready markers and the dispatch lock of each task it dispatches. */
  private readonly scope = { ready: [] as string[], lock: [] as string[] };
  private sendStatement?: PolicyStatement;

  constructor(scope: Construct, id: string, props: DispatcherProps) {
    super(scope, id);
    this.handler = new HandlerFunction(this, 'Handler', {
      entry: 'functions/dispatcher.ts',
      serviceName: ServiceName.Dispatcher,
      description: 'Blast dispatcher: sends the ready transients of the scheduled task to its queue',
      settings: dispatcherSettings,
      table: props.table,
      fixturesDir: props.fixturesDir,
      logRetention: props.logRetention,
      environment: {
        [ENV.queueUrls]: Lazy.string({ produce: () => Stack.of(this).toJsonString(this.queueUrls) }),
      },
    });
    this.handler.grantStore(props.table, DISPATCHER_STORE_USE, this.scope);
  }

  /** Lets the dispatcher send `task`'s ready transients to its queue. */
  dispatchTo(task: string, queue: IQueue): void {
    this.queueUrls[task] = queue.queueUrl;
    this.scope.ready.push(task);
    this.scope.lock.push(task);
    if (this.sendStatement) this.sendStatement.addResources(queue.queueArn);
    // GetQueueAttributes: it reads the queue's depth, to send only what keeps it shallow (lib/engine/dispatch.ts).
    else this.sendStatement = this.handler.grantQueues([queue], ['SendMessage', 'GetQueueAttributes']);
  }
}
