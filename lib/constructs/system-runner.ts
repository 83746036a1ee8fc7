/**
 * A system runner (work that belongs to no transient, e.g. ingesting from TNS): its Lambda, invoked by its
 * own schedule with its task, and an alarm on its errors. What the function may do is derived from the
 * runner's declaration: the table actions of the capabilities it `uses` (SYSTEM_CAPABILITY_ACCESS) and of
 * its run lock, the queues of the tasks those capabilities can make ready, its `secretNames` and its
 * `scratchAccess`.
 */
import { Stack } from 'aws-cdk-lib';
import type { Alarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../config';
import { runnerLabel } from '../domain/validation';
import { slug } from '../queue/queue-settings';
import { SystemCapability, type SystemTaskRunner } from '../runner';
import { ServiceName } from '../telemetry';
import { HandlerFunction, type TableAction } from './handler-function';
import { functionErrorsAlarm } from './runner-alarms';
import { RunnerSchedule } from './runner-schedule';
import type { ScratchBucket } from './scratch-bucket';

/** Which ready tasks a capability sends straight to their queues: those of new transients, those of revised ones. */
export type Announcement = 'ingested' | 'revised';

export interface CapabilityAccess {
  /** The DynamoDB actions its code paths call (lib/store/task-store.ts methods, reached through lib/engine/). */
  readonly table: readonly TableAction[];
  /** The actions it calls on the processing-status index. @default none */
  readonly statusIndex?: readonly TableAction[];
  /** The ready tasks it sends (sqs:SendMessage on their queues, TASK_QUEUE_URLS). */
  readonly announces: readonly Announcement[];
}

/** Every system run takes and releases its runner's lock (lib/engine/system.ts): acquireLock, releaseLock. */
export const RUN_LOCK_ACTIONS: readonly TableAction[] = ['PutItem', 'DeleteItem'];

/** What each capability of lib/runner.ts SystemCapability needs; the only place these grants are written. */
export const SYSTEM_CAPABILITY_ACCESS: Readonly<Record<SystemCapability, CapabilityAccess>> = {
  [SystemCapability.Ingest]: {
    // create (TransactWriteItems, authorised per Put), addCounts, deleteMarkers of the first tasks sent.
    table: ['PutItem', 'UpdateItem', 'BatchWriteItem'],
    announces: ['ingested'],
  },
  [SystemCapability.Upsert]: {
    // getMany of the reported names; ingest's writes; a revision's replace, setProcessingStatus and
    // addCounts; putMarkers for reset tasks it cannot send.
    table: ['BatchGetItem', 'PutItem', 'UpdateItem', 'BatchWriteItem'],
    announces: ['ingested', 'revised'],
  },
  // readCounts.
  [SystemCapability.Counts]: { table: ['BatchGetItem'], announces: [] },
  // getMany.
  [SystemCapability.ProcessingStatuses]: { table: ['BatchGetItem'], announces: [] },
  // readSystemState, writeSystemState.
  [SystemCapability.State]: { table: ['GetItem', 'PutItem'], announces: [] },
  // readCounterShard, repairCounterShard; countIndexShard on the status index.
  [SystemCapability.Recount]: { table: ['GetItem', 'UpdateItem'], statusIndex: ['Query'], announces: [] },
};

/** The table actions a system runner's function needs: its run lock and its capabilities'. */
export const systemTableActions = (runner: SystemTaskRunner): TableAction[] =>
  [...new Set([...RUN_LOCK_ACTIONS, ...runner.uses.flatMap((capability) => SYSTEM_CAPABILITY_ACCESS[capability].table)])].sort();

/** Which ready tasks a system runner's function sends straight to their queues. */
export const systemAnnouncements = (runner: SystemTaskRunner): Announcement[] => [
  ...new Set(runner.uses.flatMap((capability) => SYSTEM_CAPABILITY_ACCESS[capability].announces)),
];

export interface SystemRunnerProps {
  /** The runner as registered in functions/registry.ts. */
  readonly runner: SystemTaskRunner;
  readonly table: ITable;
  /**
   * By task, the queues of the tasks that become ready when transients are ingested or revised and that a
   * system runner sends straight to their queues (the others wait for the dispatcher). @default none
   */
  readonly readyQueues?: Readonly<Record<Announcement, ReadonlyMap<string, IQueue>>>;
  /** The scratch data, for a runner that declares `scratchAccess`. @default none: such a runner is refused */
  readonly scratch?: ScratchBucket;
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
  /** Task → queue of the tasks it sends straight to their queues. */
  readonly sendsTo: ReadonlyMap<string, IQueue>;

  constructor(scope: Construct, id: string, props: SystemRunnerProps) {
    super(scope, id);
    const { runner } = props;
    const label = runnerLabel(runner);
    if (runner.scratchAccess.length > 0 && !props.scratch) {
      throw new Error(`${this.node.path}: ${label} declares scratchAccess, but no scratch bucket was given`);
    }
    this.runner = runner;
    this.taskName = runner.taskName;
    const sendsTo = new Map<string, IQueue>();
    for (const announcement of systemAnnouncements(runner)) {
      for (const [task, queue] of props.readyQueues?.[announcement] ?? []) sendsTo.set(task, queue);
    }
    this.sendsTo = sendsTo;

    this.handler = new HandlerFunction(this, 'Handler', {
      entry: 'functions/system-worker.ts',
      serviceName: ServiceName.SystemWorker,
      description: `Blast system runner "${runner.taskName}"`,
      settings: runner,
      table: props.table,
      fixturesDir: props.fixturesDir,
      logRetention: props.logRetention,
      environment: {
        // Ingested and revised transients' ready tasks go out at once (lib/engine/transitions.ts announce).
        ...(sendsTo.size > 0
          ? { [ENV.queueUrls]: Stack.of(this).toJsonString(Object.fromEntries([...sendsTo].map(([task, queue]) => [task, queue.queueUrl]))) }
          : {}),
      },
    });
    this.handler.grantTable(props.table, systemTableActions(runner));
    this.handler.grantStatusIndex(props.table, [...new Set(runner.uses.flatMap((capability) => SYSTEM_CAPABILITY_ACCESS[capability].statusIndex ?? []))]);
    this.handler.grantQueues([...sendsTo.values()], ['SendMessage']);
    this.handler.readSecrets(runner.secretNames, label);
    props.scratch?.grant(this.handler, runner.scratchAccess, label);
    this.schedule = new RunnerSchedule(this, 'Schedule', { runner, target: this.handler.function });
    this.errorsAlarm = functionErrorsAlarm(this, 'ErrorsAlarm', this.handler.function, slug(runner.taskName), props.alarmAction);
  }
}
