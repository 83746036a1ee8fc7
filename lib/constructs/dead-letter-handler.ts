/**
 * The dead-letter handler (principle 5): an event source on every runner's dead-letter queue. For each
 * message that used up its deliveries it records the error status in the transient's register and keeps
 * the message as a dead-letter record in the table, from which `dlq redrive` sends it again.
 */
import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IAlarmAction, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { RETENTION_SECONDS } from '../queue/queue-settings';
import { Construct } from 'constructs';
import { ENV } from '../settings/config';
import { DEAD_LETTER_STORE_USE } from '../engine/store-use';
import { DEAD_LETTER_FAILURES_QUEUE, deadLetterSettings } from '../settings/framework-functions';
import { ServiceName } from '../engine/telemetry';
import { CONSUME_ACTIONS, HandlerFunction } from './handler-function';
import { constructId } from './names';
import { METRIC_PERIOD } from './task-metrics';

export interface DeadLetterHandlerProps {
  readonly table: ITable;
  /** The fixture files' folder on this machine. */
  readonly fixturesDir: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Where the alarm on dead letters it could not record notifies. @default no action */
  readonly alarmAction?: IAlarmAction;
}

export class DeadLetterHandler extends Construct {
  readonly handler: HandlerFunction;
  /**
   * Where a dead letter the handler could not record goes after `deadLetterSettings.maxReceiveCount` tries,
   * instead of looping: kept 14 days, with an alarm, for an operator (the handler logged why each time).
   */
  readonly failures: Queue;
  readonly failuresAlarm: Alarm;
  private readonly queueArns: Record<string, string> = {};
  /** The items it may reach: the dead letters of the tasks it watches, the ready markers their settling can make. */
  private readonly scope = { deadLetter: [] as string[], ready: [] as string[] };
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
    this.handler.grantStore(props.table, DEAD_LETTER_STORE_USE, this.scope);

    this.failures = new Queue(this, 'Failures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(RETENTION_SECONDS),
    });
    this.failuresAlarm = new Alarm(this, 'FailuresAlarm', {
      alarmName: `${Stack.of(this).stackName}-${DEAD_LETTER_FAILURES_QUEUE}`,
      alarmDescription:
        'Dead letters the dead-letter handler could not record after several tries (its logs say why). Fix the cause, then move them back to their dead-letter queue.',
      metric: this.failures.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: METRIC_PERIOD }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmAction) this.failuresAlarm.addAlarmAction(props.alarmAction);
  }

  /**
   * Consumes `task`'s dead-letter queue: records its dead letters, and the ready markers of `makesReady` (the tasks
   * a change to its register can make ready).
   */
  watch(task: string, deadLetterQueue: IQueue, makesReady: readonly string[]): EventSourceMapping {
    this.queueArns[task] = deadLetterQueue.queueArn;
    this.scope.deadLetter.push(task);
    this.scope.ready.push(...makesReady.filter((ready) => !this.scope.ready.includes(ready)));
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
