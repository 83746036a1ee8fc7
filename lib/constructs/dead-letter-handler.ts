/**
 * The dead-letter handler (principle 5): an event source on every runner's dead-letter queue. For each
 * message that used up its deliveries it records the error status in the transient's register and keeps
 * the message as a dead-letter record in the table, from which `dlq redrive` sends it again.
 */
import { Lazy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../config';
import { deadLetterSettings } from '../settings';
import { ServiceName } from '../telemetry';
import { CONSUME_ACTIONS, HandlerFunction, type TableAction } from './handler-function';
import { constructId } from './names';

export interface DeadLetterHandlerProps {
  readonly table: ITable;
  /** The fixture files' folder on this machine. */
  readonly fixturesDir: string;
  /**
   * Whether an error status it records can make another task ready (a prerequisite that waits for a
   * failure), in which case it writes ready markers for the dispatcher.
   */
  readonly mayMakeTasksReady: boolean;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

export class DeadLetterHandler extends Construct {
  readonly handler: HandlerFunction;
  private readonly queueArns: Record<string, string> = {};
  private consumeStatement?: PolicyStatement;

  constructor(scope: Construct, id: string, props: DeadLetterHandlerProps) {
    super(scope, id);
    this.handler = new HandlerFunction(this, 'Handler', {
      entry: 'functions/dead-letter.ts',
      serviceName: ServiceName.DeadLetter,
      description: 'Blast dead-letter handler: records the error status of messages that used up their deliveries',
      settings: deadLetterSettings,
      table: props.table,
      fixturesDir: props.fixturesDir,
      logRetention: props.logRetention,
      environment: {
        [ENV.deadLetterQueues]: Lazy.string({ produce: () => Stack.of(this).toJsonString(this.queueArns) }),
      },
    });
    // GetItem/UpdateItem: the compare-and-set of the register; PutItem: the dead-letter record.
    const actions: TableAction[] = ['GetItem', 'UpdateItem', 'PutItem'];
    if (props.mayMakeTasksReady) actions.push('BatchWriteItem');
    this.handler.grantTable(props.table, actions);
  }

  /** Consumes `task`'s dead-letter queue. */
  watch(task: string, deadLetterQueue: IQueue): EventSourceMapping {
    this.queueArns[task] = deadLetterQueue.queueArn;
    if (this.consumeStatement) this.consumeStatement.addResources(deadLetterQueue.queueArn);
    else this.consumeStatement = this.handler.grantQueues([deadLetterQueue], CONSUME_ACTIONS);
    return new EventSourceMapping(this, `${constructId(task)}Source`, {
      target: this.handler.function,
      eventSourceArn: deadLetterQueue.queueArn,
      batchSize: deadLetterSettings.batchSize,
      maxConcurrency: deadLetterSettings.maxConcurrency,
      reportBatchItemFailures: true,
    });
  }
}
