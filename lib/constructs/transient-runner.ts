/**
 * Everything one transient runner needs, derived from its registry entry: its Lambda (the shared worker
 * entry, with the runner's memory and timeout), its queue and dead-letter queue, the event source
 * mapping between them, its schedule (which invokes the dispatcher with the runner's task) and its alarms.
 * The stack makes one per registered transient runner (a user adds the runner to the registry, not this
 * construct by hand); another stack may use it with its own table, dispatcher and dead-letter handler.
 */
import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import type { IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type ContainerTask, ENV } from '../settings/config';
import { CONTAINER_WORKER_MEMORY_MB, Compute } from '../domain/compute';
import { workerTimeoutSeconds } from '../queue/queue-settings';
import type { ContainerNetwork } from './container-network';
import { ContainerRunner, RUN_CONTAINER } from './container-runner';
import { WORKER_STORE_USE } from '../engine/store-use';
import { DEFAULT_HISTORY_RETENTION_DAYS } from '../domain/limits';
import { runnerLabel } from '../domain/validation';
import { deadLetterQueueSettings, queueSettings } from '../queue/queue-settings';
import { type TransientTaskRunner, isPythonRunner } from '../runner';
import { PythonRunnerFunction } from './python-runner-function';
import { ArtifactAccess, type ScratchBucket, functionGrantee } from './scratch-bucket';
import { artifactUseOf } from '../domain/declaration';
import { ServiceName } from '../engine/telemetry';
import type { DeadLetterHandler } from './dead-letter-handler';
import type { Dispatcher } from './dispatcher';
import { CONSUME_ACTIONS, HandlerFunction } from './handler-function';
import { RunnerAlarms } from './runner-alarms';
import { RunnerSchedule } from './runner-schedule';

export interface TransientRunnerProps {
  /** The runner as registered in runners/registry.ts; every setting comes from it. */
  readonly runner: TransientTaskRunner;
  readonly table: ITable;
  /** Invoked by this runner's schedule; gets leave to send to this runner's queue. */
  readonly dispatcher: Dispatcher;
  /** Consumes this runner's dead-letter queue. */
  readonly deadLetterHandler: DeadLetterHandler;
  /**
   * The tasks a change to this runner's register can make ready (lib/domain/workflow.ts
   * tasksAChangeCanMakeReady): its worker, and the dead-letter handler for its dead letters, may write the ready
   * markers of these tasks only.
   */
  readonly makesReady: readonly string[];
  /** The fixture files' folder on this machine. */
  readonly fixturesDir: string;
  /** Where the runs' artifacts live. @default none: `context.artifacts` refuses */
  readonly artifacts?: ScratchBucket;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Where the runner's alarms notify. @default no action */
  readonly alarmAction?: IAlarmAction;
  /** The cluster and network a runner with `compute: 'container'` runs in (the stack makes one when any needs it). */
  readonly containerNetwork?: ContainerNetwork;
  /** Days each run-history record is kept (the table's TTL deletes it after). @default DEFAULT_HISTORY_RETENTION_DAYS */
  readonly historyRetentionDays?: number;
}

export class TransientRunner extends Construct {
  readonly runner: TransientTaskRunner;
  readonly taskName: string;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly worker: HandlerFunction;
  /** A Python runner's own function, which its worker invokes (lib/constructs/python-runner-function.ts). */
  readonly pythonFunction?: PythonRunnerFunction;
  /** The task definition of a runner whose runs happen in a container, which its worker starts. */
  readonly container?: ContainerRunner;
  readonly eventSource: EventSourceMapping;
  /** The dead-letter handler's event source on this runner's dead-letter queue. */
  readonly deadLetterSource: EventSourceMapping;
  readonly schedule: RunnerSchedule;
  readonly alarms: RunnerAlarms;
  /** Task → queue URL of the queues the worker sends to: its own (retry delays) and its successors'. */
  private readonly queueUrls: Record<string, string>;
  private sendStatement?: PolicyStatement;

  constructor(scope: Construct, id: string, props: TransientRunnerProps) {
    super(scope, id);
    const { runner } = props;
    this.runner = runner;
    this.taskName = runner.taskName;
    const settings = queueSettings(runner);

    const deadLetter = deadLetterQueueSettings();
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(deadLetter.retentionSeconds),
      visibilityTimeout: Duration.seconds(deadLetter.visibilityTimeoutSeconds),
      // What the dead-letter handler cannot record does not loop: it goes on to the failures queue.
      deadLetterQueue: { queue: props.deadLetterHandler.failures, maxReceiveCount: deadLetter.maxReceiveCount },
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(settings.retentionSeconds),
      visibilityTimeout: Duration.seconds(settings.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
    });
    this.queueUrls = { [runner.taskName]: this.queue.queueUrl };

    this.worker = new HandlerFunction(this, 'Worker', {
      entry: 'functions/transient-worker.ts',
      serviceName: ServiceName.TransientWorker,
      description: `Blast runner "${runner.taskName}"`,
      // A container runner's worker only claims and starts the run: a short function.
      settings: runner.compute === Compute.Container ? { memorySize: CONTAINER_WORKER_MEMORY_MB, timeoutSeconds: workerTimeoutSeconds(runner) } : runner,
      table: props.table,
      fixturesDir: props.fixturesDir,
      logRetention: props.logRetention,
      environment: {
        [ENV.queueUrls]: Lazy.string({ produce: () => Stack.of(this).toJsonString(this.queueUrls) }),
        // A poison message (unreadable, an unknown runner or transient) goes to its dead-letter queue at once.
        [ENV.deadLetterQueueUrls]: Stack.of(this).toJsonString({ [runner.taskName]: this.deadLetterQueue.queueUrl }),
        [ENV.historyRetentionDays]: String(props.historyRetentionDays ?? DEFAULT_HISTORY_RETENTION_DAYS),
      },
    });
    this.worker.grantStore(props.table, WORKER_STORE_USE, { ready: props.makesReady });
    if (isPythonRunner(runner) && runner.compute !== Compute.Container) {
      // Its `_run_process` runs in a function of its own, which the worker invokes once it has claimed.
      this.pythonFunction = new PythonRunnerFunction(this, 'Python', { runner, logRetention: props.logRetention });
      this.worker.function.addEnvironment(ENV.runnerFunctions, Stack.of(this).toJsonString({ [runner.taskName]: this.pythonFunction.function.functionName }));
      this.worker.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.pythonFunction.function.functionArn] }));
    }
    if (runner.compute === Compute.Container) {
      const network = props.containerNetwork;
      if (!network) throw new Error(`${this.node.path}: "${runner.taskName}" runs in a container, and no containerNetwork was given`);
      this.container = new ContainerRunner(this, 'Container', {
        runner,
        table: props.table,
        queue: this.queue,
        makesReady: props.makesReady,
        queueUrls: Lazy.string({ produce: () => Stack.of(this).toJsonString(this.queueUrls) }),
        fixturesDir: props.fixturesDir,
        logRetention: props.logRetention,
      });
      this.container.grantRun(this.worker.role, network);
      const task: ContainerTask = {
        cluster: network.cluster.clusterArn,
        taskDefinition: this.container.taskDefinition.taskDefinitionArn,
        container: RUN_CONTAINER,
        subnets: network.subnetIds,
        securityGroups: [network.securityGroup.securityGroupId],
      };
      this.worker.function.addEnvironment(ENV.containerTasks, Stack.of(this).toJsonString({ [runner.taskName]: task }));
    }
    // What the runner declares: writing its own task's artifacts (and an output too large for an item), reading
    // artifacts. The worker records and spills for a Python run, so it gets the same as the function; a container
    // runner's worker only claims and starts the run, which reads, writes, records and spills itself.
    const label = runnerLabel(runner);
    const use = artifactUseOf(runner);
    const runs = [...(use.writes ? [ArtifactAccess.WriteOwnTask] : []), ...(use.reads ? [ArtifactAccess.Read] : [])];
    const artifacts = runs.length > 0 ? props.artifacts : undefined;
    if (!this.container) artifacts?.grantArtifacts(functionGrantee(this.worker), runs, label, runner.taskName);
    if (this.pythonFunction) artifacts?.grantArtifacts(functionGrantee(this.pythonFunction), runs, `${label}'s function`, runner.taskName);
    if (this.container) {
      const { taskRole, runContainer, pythonContainer } = this.container;
      // A Python runner's own container reads and writes its artifacts itself, as its function would.
      const addEnvironment = (name: string, value: string) => [runContainer, pythonContainer].forEach((container) => container?.addEnvironment(name, value));
      artifacts?.grantArtifacts({ role: taskRole, addEnvironment }, runs, `${label}'s container runs`, runner.taskName);
    }
    // The mapping polls and deletes; the worker itself delays a failed run's retry (ChangeMessageVisibility).
    this.worker.grantQueues([this.queue], [...CONSUME_ACTIONS, 'ChangeMessageVisibility']);
    // Poison messages, sent as they are to its own dead-letter queue (lib/engine/worker.ts handleDelivery).
    this.worker.grantQueues([this.deadLetterQueue], ['SendMessage']);
    this.worker.readSecrets(runner.secretNames, runnerLabel(runner));
    this.eventSource = new EventSourceMapping(this, 'QueueSource', {
      target: this.worker.function,
      eventSourceArn: this.queue.queueArn,
      batchSize: settings.batchSize,
      maxConcurrency: settings.maxConcurrency,
      reportBatchItemFailures: true,
    });

    props.dispatcher.dispatchTo(runner.taskName, this.queue);
    this.deadLetterSource = props.deadLetterHandler.watch(runner.taskName, this.deadLetterQueue, props.makesReady);
    this.schedule = new RunnerSchedule(this, 'Schedule', { runner, target: props.dispatcher.handler.function });
    this.alarms = new RunnerAlarms(this, 'Alarms', {
      taskName: runner.taskName,
      frequencySeconds: runner.frequencySeconds,
      worker: this.worker.function,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      ...(props.alarmAction ? { action: props.alarmAction } : {}),
    });
  }

  /** Lets this runner's worker send `successor`'s tasks straight to its queue once they become ready. */
  sendsTo(successor: TransientRunner): void {
    this.queueUrls[successor.taskName] = successor.queue.queueUrl;
    if (this.sendStatement) this.sendStatement.addResources(successor.queue.queueArn);
    else this.sendStatement = this.worker.grantQueues([successor.queue], ['SendMessage']);
    // A container run chains as its worker would.
    this.container?.sendsTo(successor.queue);
  }
}
