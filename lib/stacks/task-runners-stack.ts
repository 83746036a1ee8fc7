/**
 * The deployment, derived entirely from the registry and the fixtures: the table, the dispatcher, the
 * dead-letter handler, one TransientRunner per transient runner and one SystemRunner per system runner,
 * the sends each worker makes to its successors, the scratch bucket when a runner uses scratch data, the
 * dashboard, the alarms and the outputs the CLI reads.
 */
import { join } from 'node:path';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { artifactUseOf } from '../domain/declaration';
import { assertValidRegistry } from '../domain/validation';
import { fieldsUsedByTask, tasksReadyAfterRevision } from '../domain/revision';
import { type Workflow, readyTasks, tasksAChangeCanMakeReady } from '../domain/workflow';
import { loadCatalog } from '../fixtures/load-catalog';
import { type AnyRunner, SystemCapability, type SystemTaskRunner, isTransientRunner } from '../runner';
import { DeadLetterHandler } from '../constructs/dead-letter-handler';
import { Dispatcher } from '../constructs/dispatcher';
import { PROJECT_ROOT, REGISTRY_MODULE_CONTEXT } from '../constructs/handler-function';
import { constructId } from '../constructs/names';
import { functionErrorsAlarm } from '../constructs/runner-alarms';
import { ScratchBucket } from '../constructs/scratch-bucket';
import { SystemRunner } from '../constructs/system-runner';
import { TaskRunnersDashboard } from '../constructs/task-runners-dashboard';
import { TaskTable } from '../constructs/task-table';
import { TransientRunner } from '../constructs/transient-runner';
import { ContainerNetwork } from '../constructs/container-network';
import { WebConsole, type WebConsoleProps } from '../constructs/web-console';
import { Compute } from '../domain/compute';
// The CLI finds a deployment by these outputs; ./outputs.ts declares them once, for both.
import { StackOutput, WebViewOutput } from './outputs';


export interface TaskRunnersStackProps extends StackProps {
  /** The registry (runners/registry.ts). */
  readonly runners: readonly AnyRunner[];
  /**
   * The module (a path, from the project root or absolute) whose `registry` export is `runners`: the code the
   * functions and container runs are bundled with imports it instead of runners/registry.ts. @default runners/registry.ts
   */
  readonly registryModule?: string;
  /** The folder of setup_status.yaml and setup_tasks.yaml. @default the project's fixtures/ */
  readonly fixturesDir?: string;
  /** An address to e-mail when an alarm fires (an SNS topic is created for it). @default alarms notify nobody */
  readonly alarmEmail?: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Days each run-history record is kept before the table's TTL deletes it. @default DEFAULT_HISTORY_RETENTION_DAYS (90) */
  readonly historyRetentionDays?: number;
  /**
   * The web view (docs/deploying.md: The web view): the folder of the page's prebuilt files, and optionally the
   * API's entry and the sign-in domain's prefix. @default no web view
   */
  readonly webView?: Pick<WebConsoleProps, 'siteDir' | 'apiEntry' | 'domainPrefix'>;
}

export class TaskRunnersStack extends Stack {
  readonly workflow: Workflow;
  readonly table: TaskTable;
  readonly dispatcher: Dispatcher;
  readonly deadLetterHandler: DeadLetterHandler;
  readonly transientRunners: readonly TransientRunner[];
  readonly systemRunners: readonly SystemRunner[];
  /** The scratch data, when some runner declares `scratchAccess`. */
  readonly scratch?: ScratchBucket;
  readonly dashboard: TaskRunnersDashboard;
  readonly alarmTopic?: Topic;
  /** The web view, when `webView` is given. */
  readonly webConsole?: WebConsole;

  constructor(scope: Construct, id: string, props: TaskRunnersStackProps) {
    const { runners: registered, registryModule, fixturesDir: fixtures, alarmEmail, logRetention, historyRetentionDays, webView, ...stackProps } = props;
    super(scope, id, { description: 'Blast task runners: dispatcher, per-runner queues and Lambda workers over DynamoDB', ...stackProps });
    // Read by every bundling construct below (registryAlias); set before any of them exists.
    if (registryModule !== undefined) this.node.setContext(REGISTRY_MODULE_CONTEXT, registryModule);
    const fixturesDir = fixtures ?? join(PROJECT_ROOT, 'fixtures');
    // Principle 1: the registry is validated at synth; every problem is named before anything is built.
    this.workflow = assertValidRegistry(loadCatalog(fixturesDir), registered);
    const transient = registered.filter(isTransientRunner);
    const system = registered.filter((runner): runner is SystemTaskRunner => !isTransientRunner(runner));
    const shared = { fixturesDir, ...(logRetention ? { logRetention } : {}) };

    let alarmAction: IAlarmAction | undefined;
    if (alarmEmail) {
      this.alarmTopic = new Topic(this, 'AlarmTopic', { displayName: 'Blast task runner alarms', enforceSSL: true });
      this.alarmTopic.addSubscription(new EmailSubscription(alarmEmail));
      alarmAction = new SnsAction(this.alarmTopic);
    }

    this.table = new TaskTable(this, 'Tasks');
    const { table } = this.table;
    this.dispatcher = new Dispatcher(this, 'Dispatcher', { table, ...shared });
    this.deadLetterHandler = new DeadLetterHandler(this, 'DeadLetterHandler', { table, ...shared, ...(alarmAction ? { alarmAction } : {}) });

    // One cluster and network for every runner whose runs happen in a container, made only when one does.
    const containerNetwork = transient.some((runner) => runner.compute === Compute.Container) ? new ContainerNetwork(this, 'Containers') : undefined;
    // The scratch data and the runs' artifacts, each under a prefix of its own (docs/architecture.md: Artifacts).
    const needsBucket = transient.some((runner) => artifactUseOf(runner).reads) || system.some((runner) => runner.scratchAccess.length > 0 || runner.uses.includes(SystemCapability.PruneArtifacts));
    if (needsBucket) this.scratch = new ScratchBucket(this, 'Scratch');
    const artifacts = this.scratch;
    const runners = new Map(
      transient.map((runner) => [
        runner.taskName,
        new TransientRunner(this, constructId(runner.taskName), {
          runner,
          table,
          dispatcher: this.dispatcher,
          deadLetterHandler: this.deadLetterHandler,
          makesReady: tasksAChangeCanMakeReady(this.workflow, runner.taskName),
          ...(containerNetwork ? { containerNetwork } : {}),
          ...(artifacts ? { artifacts } : {}),
          ...(historyRetentionDays === undefined ? {} : { historyRetentionDays }),
          ...shared,
          ...(alarmAction ? { alarmAction } : {}),
        }),
      ]),
    );
    this.transientRunners = [...runners.values()];
    // Principle 6: a worker sends its successors straight to their queues, except to runners that start
    // disabled, which it leaves ready markers for (lib/engine/transitions.ts announce).
    const sendsStraightTo = (task: string) => runners.get(task)?.runner.initiallyEnabled === true;
    for (const runner of this.transientRunners) {
      for (const task of this.workflow.dependents.get(runner.taskName) ?? []) {
        const successor = runners.get(task);
        if (successor && sendsStraightTo(task)) runner.sendsTo(successor);
      }
    }

    // What a system runner that ingests or revises transients may send at once: the first tasks of a new
    // transient, and the tasks a revision can make ready (lib/domain/revision.ts).
    const queuesOf = (tasks: readonly string[]) =>
      new Map(tasks.filter(sendsStraightTo).flatMap((task) => {
        const queue = runners.get(task)?.queue;
        return queue ? [[task, queue] as const] : [];
      }));
    const ready = {
      ingested: readyTasks(this.workflow, {}),
      revised: tasksReadyAfterRevision(this.workflow, fieldsUsedByTask(transient)),
      any: [...runners.keys()],
    };
    const readyQueues = { ingested: queuesOf(ready.ingested), revised: queuesOf(ready.revised) };
    const { scratch } = this;
    this.systemRunners = system.map(
      (runner) =>
        new SystemRunner(this, constructId(runner.taskName), {
          runner,
          table,
          readyQueues,
          readyTasks: ready,
          ...(scratch ? { scratch } : {}),
          ...shared,
          ...(alarmAction ? { alarmAction } : {}),
        }),
    );

    const frameworkAlarms = [
      functionErrorsAlarm(this, 'DispatcherErrors', this.dispatcher.handler.function, 'dispatcher', alarmAction),
      functionErrorsAlarm(this, 'DeadLetterHandlerErrors', this.deadLetterHandler.handler.function, 'dead-letter-handler', alarmAction),
    ];
    this.dashboard = new TaskRunnersDashboard(this, 'Dashboard', {
      transientRunners: this.transientRunners,
      systemRunners: this.systemRunners,
      dispatcher: this.dispatcher.handler.function,
      deadLetterHandler: this.deadLetterHandler.handler.function,
      alarms: [...this.transientRunners.flatMap((runner) => runner.alarms.all), ...this.systemRunners.map((runner) => runner.errorsAlarm), ...frameworkAlarms],
    });

    if (webView) {
      const web = new WebConsole(this, 'Web', { table, ...webView, ...shared });
      for (const runner of this.transientRunners) web.watch(runner.taskName, runner.queue, runner.deadLetterQueue);
      this.webConsole = web;
      new CfnOutput(this, WebViewOutput.SiteUrl, { value: `${web.siteUrl}/`, description: 'The web view (sign in with a user of the web view\'s user pool)' });
      new CfnOutput(this, WebViewOutput.ApiUrl, { value: web.api.apiEndpoint, description: 'The web view\'s API (every route needs a token of the user pool)' });
      new CfnOutput(this, WebViewOutput.UserPoolId, { value: web.userPool.userPoolId, description: 'The web view\'s Cognito user pool' });
    }

    new CfnOutput(this, StackOutput.TableName, { value: table.tableName, description: 'The DynamoDB table of transients, registers and ready markers' });
    new CfnOutput(this, StackOutput.TaskQueueUrls, {
      value: this.toJsonString(Object.fromEntries(this.transientRunners.map((runner) => [runner.taskName, runner.queue.queueUrl]))),
      description: 'JSON: task → URL of its SQS queue',
    });
    new CfnOutput(this, StackOutput.DeadLetterQueueUrls, {
      value: this.toJsonString(Object.fromEntries(this.transientRunners.map((runner) => [runner.taskName, runner.deadLetterQueue.queueUrl]))),
      description: 'JSON: task → URL of its dead-letter queue',
    });
    new CfnOutput(this, StackOutput.DashboardUrl, {
      value: `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${this.dashboard.dashboard.dashboardName}`,
      description: 'The CloudWatch dashboard',
    });
  }
}
