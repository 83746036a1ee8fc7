/**
 * The CDK app's contents, shared by bin/app.ts (`cdk synth`, `cdk deploy`) and the tests: the stack from
 * the registry, checked by cdk-nag's AwsSolutions pack, whose unacknowledged findings fail the synth.
 */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../domain/errors';
import type { AnyRunner } from '../runner';
import { DEFAULT_STACK } from './outputs';
import { TaskRunnersStack, type TaskRunnersStackProps } from './task-runners-stack';

/** Context keys the app reads (`cdk deploy -c alarmEmail=ops@example.org`). */
export const AppContext = {
  stackName: 'stackName',
  alarmEmail: 'alarmEmail',
  /** The folder of setup_status.yaml and setup_tasks.yaml, as the CLI's `--fixtures` (default the project's fixtures/). */
  fixtures: 'fixtures',
  /** Days each run-history record is kept (`cdk deploy -c historyRetentionDays=30`); default 90. */
  historyRetentionDays: 'historyRetentionDays',
  /**
   * A folder of the web view's built page (index.html at its top): the stack then deploys the web view
   * (docs/deploying.md). bin/app.ts builds the page and sets it when it is not given.
   */
  webSite: 'webSite',
} as const;

const stringContext = (app: App, key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new ConfigError(`context "${key}" must be a string, not ${JSON.stringify(value)}`);
  return value;
};

export const addTaskRunners = (app: App, runners: readonly AnyRunner[], props: Partial<TaskRunnersStackProps> = {}): TaskRunnersStack => {
  const alarmEmail = stringContext(app, AppContext.alarmEmail);
  const fixturesDir = stringContext(app, AppContext.fixtures);
  const retention = stringContext(app, AppContext.historyRetentionDays);
  const historyRetentionDays = retention === undefined ? undefined : Number(retention);
  if (historyRetentionDays !== undefined && (!Number.isInteger(historyRetentionDays) || historyRetentionDays < 1)) {
    throw new ConfigError(`context "${AppContext.historyRetentionDays}" must be a whole number of days (1 or more), not ${JSON.stringify(retention)}`);
  }
  const siteDir = stringContext(app, AppContext.webSite);
  const stack = new TaskRunnersStack(app, stringContext(app, AppContext.stackName) ?? DEFAULT_STACK, {
    runners,
    ...(alarmEmail ? { alarmEmail } : {}),
    ...(fixturesDir ? { fixturesDir } : {}),
    ...(historyRetentionDays === undefined ? {} : { historyRetentionDays }),
    ...(siteDir ? { webView: { siteDir } } : {}),
    ...props,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stack;
};
