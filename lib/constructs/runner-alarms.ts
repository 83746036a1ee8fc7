/**
 * A transient runner's alarms: dead letters present, the oldest waiting message older than a few schedule
 * periods, and a high error rate. Each notifies the alarm action when one is given (the stack's SNS topic).
 */
import { Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IAlarmAction,
  MathExpression,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { slug } from '../queue/queue-settings';
import { Metric, ServiceName } from '../engine/telemetry';
import { METRIC_PERIOD, taskMetric } from './task-metrics';

/** The oldest message may wait this many schedule periods before the queue counts as stuck. */
export const OLDEST_MESSAGE_PERIODS = 5;
/** Percent of runs that threw or crashed, sustained over ERROR_RATE_PERIODS metric periods. */
export const ERROR_RATE_PERCENT = 10;
export const ERROR_RATE_PERIODS = 3;

export interface RunnerAlarmsProps {
  readonly taskName: string;
  /** The runner's schedule period in seconds. */
  readonly frequencySeconds: number;
  readonly worker: IFunction;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  /** Where alarms notify. @default no action */
  readonly action?: IAlarmAction;
}

export class RunnerAlarms extends Construct {
  readonly deadLetters: Alarm;
  readonly oldestMessage: Alarm;
  readonly errorRate: Alarm;

  constructor(scope: Construct, id: string, props: RunnerAlarmsProps) {
    super(scope, id);
    const { taskName } = props;
    const name = (what: string) => `${Stack.of(this).stackName}-${slug(taskName)}-${what}`;

    this.deadLetters = new Alarm(this, 'DeadLetters', {
      alarmName: name('dead-letters'),
      alarmDescription: `"${taskName}": messages used up their deliveries (recorded by the dead-letter handler, or still waiting in the dead-letter queue). Inspect with \`dlq list\`, redrive with \`dlq redrive\`.`,
      metric: new MathExpression({
        expression: 'FILL(recorded, 0) + FILL(waiting, 0)',
        usingMetrics: {
          recorded: taskMetric(ServiceName.DeadLetter, taskName, Metric.DeadLettered),
          waiting: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: METRIC_PERIOD }),
        },
        label: 'dead letters',
        period: METRIC_PERIOD,
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const maxAgeSeconds = OLDEST_MESSAGE_PERIODS * props.frequencySeconds;
    this.oldestMessage = new Alarm(this, 'OldestMessage', {
      alarmName: name('oldest-message'),
      alarmDescription: `"${taskName}": a message has waited in the queue for more than ${OLDEST_MESSAGE_PERIODS} schedule periods (${maxAgeSeconds} s): the runner is not keeping up, is throttled, or keeps failing.`,
      metric: props.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: METRIC_PERIOD }),
      threshold: maxAgeSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.errorRate = new Alarm(this, 'ErrorRate', {
      alarmName: name('error-rate'),
      alarmDescription: `"${taskName}": more than ${ERROR_RATE_PERCENT}% of runs threw or crashed for ${ERROR_RATE_PERIODS} periods of ${METRIC_PERIOD.toMinutes()} min.`,
      metric: new MathExpression({
        // Runner exceptions (each retried) and function errors (crashes, timeouts) per claimed run.
        expression: '100 * (FILL(failures, 0) + FILL(errors, 0)) / FILL(claimed, 1)',
        usingMetrics: {
          failures: taskMetric(ServiceName.TransientWorker, taskName, Metric.Failures),
          errors: props.worker.metricErrors({ statistic: 'Sum', period: METRIC_PERIOD }),
          claimed: taskMetric(ServiceName.TransientWorker, taskName, Metric.Claimed),
        },
        label: 'error rate (%)',
        period: METRIC_PERIOD,
      }),
      threshold: ERROR_RATE_PERCENT,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: ERROR_RATE_PERIODS,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    if (props.action) for (const alarm of this.all) alarm.addAlarmAction(props.action);
  }

  get all(): Alarm[] {
    return [this.deadLetters, this.oldestMessage, this.errorRate];
  }
}

/** An alarm on a function's errors (the dispatcher, the dead-letter handler, a system runner). */
export const functionErrorsAlarm = (scope: Construct, id: string, fn: IFunction, what: string, action?: IAlarmAction): Alarm => {
  const alarm = new Alarm(scope, id, {
    alarmName: `${Stack.of(scope).stackName}-${what}-errors`,
    alarmDescription: `${what}: invocations failed in ${ERROR_RATE_PERIODS} consecutive periods of ${METRIC_PERIOD.toMinutes()} min.`,
    metric: fn.metricErrors({ statistic: 'Sum', period: METRIC_PERIOD }),
    threshold: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: ERROR_RATE_PERIODS,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  if (action) alarm.addAlarmAction(action);
  return alarm;
};
