/**
 * The handlers' own metrics (lib/engine/telemetry.ts: Powertools EMF, namespace BlastTaskRunners, dimensions
 * service and task) as CloudWatch metrics for the dashboard and the alarms.
 */
import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric as CloudWatchMetric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { WORKFLOW_DIMENSION } from '../engine/transitions';
import { METRICS_NAMESPACE, type Metric, type ServiceName } from '../engine/telemetry';

export const METRIC_PERIOD = Duration.minutes(5);

/** One task's metric as one handler emits it. */
export const taskMetric = (service: ServiceName, task: string, metric: Metric, options: MetricOptions = {}) =>
  new CloudWatchMetric({
    namespace: METRICS_NAMESPACE,
    metricName: metric,
    dimensionsMap: { service, task },
    statistic: 'Sum',
    period: METRIC_PERIOD,
    ...options,
  });

/**
 * A workflow-level metric (task "workflow") summed over every service that emits it: transients finish in
 * workers and in the dead-letter handler, and are ingested by system runners.
 */
export const workflowMetric = (metric: Metric, label: string) =>
  new MathExpression({
    expression: `SUM(SEARCH('{${METRICS_NAMESPACE},service,task} task="${WORKFLOW_DIMENSION}" MetricName="${metric}"', 'Sum', ${METRIC_PERIOD.toSeconds()}))`,
    usingMetrics: {},
    label,
    period: METRIC_PERIOD,
  });
