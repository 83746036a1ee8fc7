/**
 * A system runner (work that belongs to no transient, e.g. ingesting from TNS): its Lambda, invoked by its
 * own schedule with its task, and an alarm on its errors. It may ingest transients (the transaction that
 * writes each with its ready markers) and send the first tasks of the workflow to their queues.
 */
import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import type { Alarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../config';
import { runnerLabel } from '../domain/validation';
import { slug } from '../queue/queue-settings';
import type { SystemTaskRunner } from '../runner';
import { ServiceName } from '../telemetry';
import { HandlerFunction } from './handler-function';
import { functionErrorsAlarm } from './runner-alarms';
import { RunnerSchedule } from './runner-schedule';

export interface SystemRunnerProps {
  /** The runner as registered in functions/registry.ts. */
  readonly runner: SystemTaskRunner;
  readonly table: ITable;
  /** The fixture files' folder on this machine. */
  readonly fixturesDir: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Where the runner's alarm notifies. @default no action */
  readonly alarmAction?: IAlarmAction;
}

export class SystemRunner extends Construct {
  readonly runner: SystemTaskRunner;
  readonly taskName: string;
  readonly handler: HandlerFunction;
  readonly schedule: RunnerSchedule;
  readonly errorsAlarm: Alarm;
  private readonly queueUrls: Record<string, string> = {};
  private sendStatement?: PolicyStatement;

  constructor(scope: Construct, id: string, props: SystemRunnerProps) {
    super(scope, id);
    const { runner } = props;
    this.runner = runner;
    this.taskName = runner.taskName;
    this.handler = new HandlerFunction(this, 'Handler', {
      entry: 'functions/system-worker.ts',
      serviceName: ServiceName.SystemWorker,
      description: `Blast system runner "${runner.taskName}"`,
      memorySize: runner.memorySize,
      timeout: Duration.seconds(runner.timeoutSeconds),
      fixturesDir: props.fixturesDir,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      environment: {
        [ENV.tableName]: props.table.tableName,
        [ENV.queueUrls]: Lazy.string({ produce: () => Stack.of(this).toJsonString(this.queueUrls) }),
      },
    });
    // PutItem: ingest's transaction (each transient with its ready markers); BatchWriteItem: deleting the
    // markers of first tasks it sent at once.
    this.handler.grantTable(props.table, ['PutItem', 'BatchWriteItem']);
    this.handler.readSecrets(runner.secretNames, runnerLabel(runner));
    this.schedule = new RunnerSchedule(this, 'Schedule', { runner, target: this.handler.function });
    this.errorsAlarm = functionErrorsAlarm(this, 'ErrorsAlarm', this.handler.function, slug(runner.taskName), props.alarmAction);
  }

  /** Lets the runner send newly ingested transients' `task` straight to its queue. */
  announcesTo(task: string, queue: IQueue): void {
    this.queueUrls[task] = queue.queueUrl;
    if (this.sendStatement) this.sendStatement.addResources(queue.queueArn);
    else this.sendStatement = this.handler.grantQueues([queue], ['SendMessage']);
  }
}
