/**
 * The dashboard built from the registry, and what adding one runner to the registry changes: exactly its
 * resources and its widgets, plus the grants and environment of the functions that now talk to it.
 */
import { SYSTEM_CAPABILITY_ACCESS } from '../../lib/constructs/system-runner';
import { describe, expect, it } from 'vitest';
import { registry } from '../../runners/registry';
import { hostKnown } from '../../runners/upstream';
import { loadCatalog } from '../../lib/fixtures/load-catalog';
import { isTransientRunner } from '../../lib/runner';
import { METRICS_NAMESPACE, Metric, ServiceName } from '../../lib/engine/telemetry';
import { runner } from '../helpers/factories';
import { fixturesWithTasks } from '../helpers/local-stack';
import { countTypes, logicalId, resourcesUnder, synthStack } from '../helpers/stack';
import { type CfnTemplate, resolvedJson, resourcesOfType } from '../helpers/template';
import { z } from 'zod';

const widgetSchema = z.looseObject({
  type: z.string(),
  properties: z.looseObject({ title: z.string().optional(), metrics: z.array(z.array(z.unknown())).optional() }),
});
const dashboardSchema = z.looseObject({ widgets: z.array(widgetSchema) });
type Widget = z.infer<typeof widgetSchema>;

const widgetsOf = (json: CfnTemplate): Widget[] => {
  const [[, dashboard] = []] = resourcesOfType(json, 'AWS::CloudWatch::Dashboard');
  return dashboardSchema.parse(resolvedJson(dashboard?.Properties?.DashboardBody)).widgets;
};
const titled = (widgets: readonly Widget[], title: string) => {
  const found = widgets.find((widget) => widget.properties.title === title);
  if (!found) throw new Error(`no widget titled "${title}"`);
  return found;
};
/** A metric line as [metric name, ...dimension pairs], without the namespace and the rendering options. */
const metricLines = (widget: Widget) =>
  (widget.properties.metrics ?? []).map((line) => line.filter((part) => typeof part === 'string'));

const transientTasks = registry.filter(isTransientRunner).map((candidate) => candidate.taskName);
const RUNNER_WIDGETS = ['runs by outcome', 'duration', 'errors and throttles', 'queue', 'dead letters'];

describe('Dashboard', () => {
  const { json } = synthStack(registry);
  const widgets = widgetsOf(json);

  it('opens with the workflow overview: transients ingested, completed and blocked, the backlog per task, the alarms', () => {
    const transients = titled(widgets, 'Transients');
    const expressions = (transients.properties.metrics ?? []).map((line) => JSON.stringify(line));
    for (const metric of [Metric.Ingested, Metric.TransientsCompleted, Metric.TransientsBlocked]) {
      expect(expressions.some((line) => line.includes(`MetricName=\\"${metric}\\"`) && line.includes('task=\\"workflow\\"'))).toBe(true);
    }
    expect(metricLines(titled(widgets, 'Ready backlog per task (markers read per dispatcher run)'))).toEqual(
      transientTasks.map((task) => [METRICS_NAMESPACE, Metric.ReadyRead, 'service', ServiceName.Dispatcher, 'task', task]),
    );
    expect(metricLines(titled(widgets, 'Queued per task'))).toHaveLength(transientTasks.length);
    expect(widgets.find((widget) => widget.type === 'alarm')?.properties).toMatchObject({ title: 'Alarms' });
  });

  it.each(transientTasks.map((task) => [task] as const))('has the row of "%s": outcomes, duration, errors, queue and dead letters', (task) => {
    const row = widgets.filter((widget) => widget.properties.title?.startsWith(`${task}:`));
    expect(row.map((widget) => widget.properties.title)).toEqual(RUNNER_WIDGETS.map((what) => `${task}: ${what}`));
    expect(metricLines(titled(widgets, `${task}: runs by outcome`))).toContainEqual([
      METRICS_NAMESPACE,
      Metric.CompletedSuccess,
      'service',
      ServiceName.TransientWorker,
      'task',
      task,
    ]);
    expect(metricLines(titled(widgets, `${task}: dead letters`))).toContainEqual([METRICS_NAMESPACE, Metric.DeadLettered, 'service', ServiceName.DeadLetter, 'task', task]);
    const durations = (titled(widgets, `${task}: duration`).properties.metrics ?? []).map((line) => line.at(-1));
    expect(durations).toEqual(expect.arrayContaining([expect.objectContaining({ stat: 'p50' }), expect.objectContaining({ stat: 'p99' })]));
    expect(metricLines(titled(widgets, `${task}: queue`)).map((line) => line[1])).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateAgeOfOldestMessage',
    ]);
  });
});

describe('Adding a runner', () => {
  // Host thumbnail: a new task after Host information, declared the way every runner file is.
  const task = 'Host thumbnail';
  const thumbnail = runner(task, { ...hostKnown, [task]: 'not processed' });
  const fixturesDir = fixturesWithTasks([...loadCatalog('fixtures').tasks.keys(), task]);
  const before = synthStack(registry);
  const after = synthStack([...registry, thumbnail], { fixturesDir });
  const added = after.stack.transientRunners.find((built) => built.taskName === task);
  if (!added) throw new Error('the new runner was not built');

  const ids = (json: CfnTemplate) => new Set(Object.keys(json.Resources));
  // Every function's code changes with the registry it bundles; what matters here is everything else.
  const withoutCode = (json: CfnTemplate, id: string) =>
    JSON.stringify(json.Resources[id], (key, value: unknown) => (key === 'Code' || key === 'Metadata' ? undefined : value));
  const changed = [...ids(before.json)].filter((id) => withoutCode(before.json, id) !== withoutCode(after.json, id));

  it('adds exactly its function, queues, event sources, schedule and alarms, and removes nothing', () => {
    const newIds = [...ids(after.json)].filter((id) => !ids(before.json).has(id));
    expect(newIds.sort()).toEqual([...resourcesUnder(added), logicalId(added.deadLetterSource)].sort());
    expect(countTypes(after.json, newIds)).toEqual({
      'AWS::Lambda::Function': 1,
      'AWS::IAM::Role': 1,
      'AWS::IAM::Policy': 1,
      'AWS::Logs::LogGroup': 1,
      'AWS::SQS::Queue': 2,
      'AWS::SQS::QueuePolicy': 2,
      'AWS::Lambda::EventSourceMapping': 2,
      'AWS::Events::Rule': 1,
      'AWS::Lambda::Permission': 1,
      'AWS::CloudWatch::Alarm': 3,
    });
    expect([...ids(before.json)].filter((id) => !ids(after.json).has(id))).toEqual([]);
  });

  it('changes only the functions that now send to it, make it ready or read its dead letters, and the dashboard', () => {
    // Its prerequisites' workers send it once ready; the dispatcher and the dead-letter handler serve every runner; a
    // system runner that may release any runner's stalled task (the recovery sweep) may now write its ready markers.
    const predecessors = Object.keys(thumbnail.prerequisites).filter((name) => name !== task);
    const marksAny = after.stack.systemRunners.filter((built) => built.runner.uses.some((capability) => SYSTEM_CAPABILITY_ACCESS[capability].marks.includes('any')));
    expect(marksAny.length).toBeGreaterThan(0);
    const functions = [
      ...predecessors.map((name) => after.stack.transientRunners.find((built) => built.taskName === name)?.worker),
      after.stack.dispatcher.handler,
      after.stack.deadLetterHandler.handler,
    ].flatMap((handler) => (handler ? [logicalId(handler.function), logicalId(handler.role.node.findChild('DefaultPolicy'))] : []));
    // Only the sweep's policy: its function's settings name no runner.
    const policies = marksAny.map((built) => logicalId(built.handler.role.node.findChild('DefaultPolicy')));
    expect(changed.sort()).toEqual([...functions, ...policies, logicalId(after.stack.dashboard.dashboard)].sort());
  });

  it('adds exactly its row of widgets and one line to each per-task overview graph', () => {
    const [old, current] = [widgetsOf(before.json), widgetsOf(after.json)];
    const titles = (widgets: Widget[]) => widgets.map((widget) => widget.properties.title);
    expect(titles(current).filter((title) => !titles(old).includes(title))).toEqual(RUNNER_WIDGETS.map((what) => `${task}: ${what}`));
    expect(current).toHaveLength(old.length + RUNNER_WIDGETS.length);
    for (const title of ['Ready backlog per task (markers read per dispatcher run)', 'Queued per task']) {
      expect(metricLines(titled(current, title))).toHaveLength(metricLines(titled(old, title)).length + 1);
    }
  });
});
