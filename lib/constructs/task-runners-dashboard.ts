/**
 * The CloudWatch dashboard: what Blast's admin page and Flower showed, and more. A workflow overview
 * (transients ingested, completed and blocked; the backlog per task; every alarm), then one row per
 * transient runner (runs by outcome, duration percentiles, errors and throttles, its queue, its dead
 * letters), one per system runner, and one for the dispatcher and the dead-letter handler.
 */
import { Duration } from 'aws-cdk-lib';
import {
  type Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IMetric,
  type IWidget,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { Metric, ServiceName } from '../engine/telemetry';
import { METRIC_PERIOD, taskMetric, workflowMetric } from './task-metrics';
import type { SystemRunner } from './system-runner';
import type { TransientRunner } from './transient-runner';

const HEIGHT = 6;
/** Five graphs fill a row of the dashboard's 24 columns. */
const RUNNER_WIDGET_WIDTH = [5, 5, 5, 5, 4] as const;

export interface TaskRunnersDashboardProps {
  readonly transientRunners: readonly TransientRunner[];
  readonly systemRunners: readonly SystemRunner[];
  readonly dispatcher: IFunction;
  readonly deadLetterHandler: IFunction;
  /** Shown together in the overview's alarm status widget. */
  readonly alarms: readonly Alarm[];
  /** @default Duration.hours(3) */
  readonly defaultInterval?: Duration;
}

const functionMetrics = (fn: IFunction, label: string): IMetric[] => [
  fn.metricInvocations({ statistic: 'Sum', period: METRIC_PERIOD, label: `${label} invocations` }),
  fn.metricErrors({ statistic: 'Sum', period: METRIC_PERIOD, label: `${label} errors` }),
  fn.metricThrottles({ statistic: 'Sum', period: METRIC_PERIOD, label: `${label} throttles` }),
];

const durationMetrics = (fn: IFunction, label: string): IMetric[] =>
  ['p50', 'p99'].map((statistic) => fn.metricDuration({ statistic, period: METRIC_PERIOD, label: `${label} ${statistic}` }));

export class TaskRunnersDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: TaskRunnersDashboardProps) {
    super(scope, id);
    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: props.defaultInterval ?? Duration.hours(3) });
    this.dashboard.addWidgets(...this.overview(props));
    for (const runner of props.transientRunners) this.dashboard.addWidgets(...TaskRunnersDashboard.transientRunnerRow(runner));
    for (const runner of props.systemRunners) this.dashboard.addWidgets(...TaskRunnersDashboard.systemRunnerRow(runner));
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Dispatcher and dead-letter handler',
        width: 12,
        height: HEIGHT,
        left: [...functionMetrics(props.dispatcher, 'dispatcher'), ...functionMetrics(props.deadLetterHandler, 'dead-letter handler')],
      }),
      new GraphWidget({
        title: 'Dispatcher and dead-letter handler: duration',
        width: 12,
        height: HEIGHT,
        left: [...durationMetrics(props.dispatcher, 'dispatcher'), ...durationMetrics(props.deadLetterHandler, 'dead-letter handler')],
      }),
    );
  }

  private overview(props: TaskRunnersDashboardProps): IWidget[] {
    const tasks = props.transientRunners;
    return [
      new TextWidget({
        markdown: '# Blast task runners\nTransients through the workflow, the backlog of every task, and every alarm. One row per runner follows.',
        width: 24,
        height: 2,
      }),
      new GraphWidget({
        title: 'Transients',
        width: 6,
        height: HEIGHT,
        left: [
          workflowMetric(Metric.Ingested, 'ingested'),
          workflowMetric(Metric.TransientsCompleted, 'completed'),
          workflowMetric(Metric.TransientsBlocked, 'blocked'),
        ],
      }),
      new GraphWidget({
        title: 'Ready backlog per task (markers read per dispatcher run)',
        width: 6,
        height: HEIGHT,
        left: tasks.map((runner) => taskMetric(ServiceName.Dispatcher, runner.taskName, Metric.ReadyRead, { statistic: 'Maximum', label: runner.taskName })),
      }),
      new GraphWidget({
        title: 'Queued per task',
        width: 6,
        height: HEIGHT,
        left: tasks.map((runner) => runner.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: METRIC_PERIOD, label: runner.taskName })),
      }),
      new AlarmStatusWidget({ title: 'Alarms', width: 6, height: HEIGHT, alarms: [...props.alarms] }),
    ];
  }

  /** The widgets of one transient runner's row; the dashboard has exactly these for it. */
  static transientRunnerRow(runner: TransientRunner): IWidget[] {
    const task = runner.taskName;
    const worker = (metric: Metric, label: string, statistic = 'Sum') => taskMetric(ServiceName.TransientWorker, task, metric, { statistic, label });
    const [outcomes, duration, errors, queue, deadLetters] = RUNNER_WIDGET_WIDTH;
    return [
      new GraphWidget({
        title: `${task}: runs by outcome`,
        width: outcomes,
        height: HEIGHT,
        left: [
          worker(Metric.CompletedSuccess, 'success status'),
          worker(Metric.CompletedError, 'error status'),
          worker(Metric.Retries, 'retried'),
          worker(Metric.DuplicatesDropped, 'duplicates dropped'),
          worker(Metric.StaleCompletions, 'stale completions'),
          taskMetric(ServiceName.Dispatcher, task, Metric.Dispatched, { label: 'dispatched' }),
          worker(Metric.Chained, 'chained'),
        ],
        stacked: false,
      }),
      new GraphWidget({
        title: `${task}: duration`,
        width: duration,
        height: HEIGHT,
        left: ['p50', 'p90', 'p99'].map((statistic) => worker(Metric.Duration, `run ${statistic}`, statistic)),
        right: ['p50', 'p99'].map((statistic) => worker(Metric.ReadyToClaim, `ready → claim ${statistic}`, statistic)),
      }),
      new GraphWidget({
        title: `${task}: errors and throttles`,
        width: errors,
        height: HEIGHT,
        left: [worker(Metric.Failures, 'runner exceptions'), ...functionMetrics(runner.worker.function, 'function').slice(1)],
      }),
      new GraphWidget({
        title: `${task}: queue`,
        width: queue,
        height: HEIGHT,
        left: [
          runner.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: METRIC_PERIOD, label: 'waiting' }),
          runner.queue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', period: METRIC_PERIOD, label: 'in flight' }),
        ],
        right: [runner.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: METRIC_PERIOD, label: 'oldest message (s)' })],
      }),
      new GraphWidget({
        title: `${task}: dead letters`,
        width: deadLetters,
        height: HEIGHT,
        left: [
          runner.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: METRIC_PERIOD, label: 'in the dead-letter queue' }),
          taskMetric(ServiceName.DeadLetter, task, Metric.DeadLettered, { label: 'recorded' }),
        ],
      }),
    ];
  }

  /** The widgets of one system runner's row. */
  static systemRunnerRow(runner: SystemRunner): IWidget[] {
    const fn = runner.handler.function;
    return [
      new GraphWidget({ title: `${runner.taskName}: runs`, width: 12, height: HEIGHT, left: functionMetrics(fn, 'function') }),
      new GraphWidget({ title: `${runner.taskName}: duration`, width: 12, height: HEIGHT, left: durationMetrics(fn, 'run') }),
    ];
  }
}
