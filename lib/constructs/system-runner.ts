/**
 * A system runner (work that belongs to no transient, e.g. ingesting from TNS): its Lambda, invoked by its
 * own schedule with its task, and an alarm on its errors. What the function may do is derived from the
 * runner's declaration: the table actions of the store methods its capabilities (`uses`) and its run lock
 * call (lib/engine/store-use.ts), the queues of the tasks those capabilities can make ready, its `secretNames` and its
 * `scratchAccess`.
 */
import { Stack } from 'aws-cdk-lib';
import type { Alarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../settings/config';
import { RUN_LOCK_STORE_USE, SYSTEM_CAPABILITY_STORE_USE, type StoreUse, combinedUse } from '../engine/store-use';
import { runnerLabel } from '../domain/validation';
import { slug } from '../queue/queue-settings';
import { SystemCapability, type SystemTaskRunner } from '../runner';
import { ServiceName } from '../engine/telemetry';
import { HandlerFunction } from './handler-function';
import { functionErrorsAlarm } from './runner-alarms';
import { RunnerSchedule } from './runner-schedule';
import { ArtifactAccess, type ScratchBucket, functionGrantee } from './scratch-bucket';

/** Which ready tasks a capability sends straight to their queues: those of new transients, those of revised ones. */
export type Announcement = 'ingested' | 'revised';
/** Which tasks' ready markers a capability writes: as it announces, or of any task (a stalled one it releases). */
export type MarkedTasks = Announcement | 'any';

export interface CapabilityAccess {
  /** The ready tasks it sends (sqs:SendMessage on their queues, TASK_QUEUE_URLS). */
  readonly announces: readonly Announcement[];
  /** The tasks whose ready markers it writes or deletes (the condition on the keys of its grants). */
  readonly marks: readonly MarkedTasks[];
}

/** Which ready tasks each capability of lib/runner.ts SystemCapability sends and marks; its table access is SYSTEM_CAPABILITY_STORE_USE's. */
export const SYSTEM_CAPABILITY_ACCESS: Readonly<Record<SystemCapability, CapabilityAccess>> = {
  [SystemCapability.Ingest]: { announces: ['ingested'], marks: ['ingested'] },
  [SystemCapability.Upsert]: { announces: ['ingested', 'revised'], marks: ['ingested', 'revised'] },
  [SystemCapability.Counts]: { announces: [], marks: [] },
  [SystemCapability.ProcessingStatuses]: { announces: [], marks: [] },
  [SystemCapability.State]: { announces: [], marks: [] },
  [SystemCapability.Recount]: { announces: [], marks: [] },
  [SystemCapability.Recover]: { announces: [], marks: ['any'] },
  [SystemCapability.PruneArtifacts]: { announces: [], marks: [] },
};

/** The store methods a system runner's function calls: its run lock's and its capabilities'. */
export const systemStoreUse = (runner: SystemTaskRunner): StoreUse =>
  combinedUse(RUN_LOCK_STORE_USE, ...runner.uses.map((capability) => SYSTEM_CAPABILITY_STORE_USE[capability]));

/** Which ready tasks a system runner's function sends straight to their queues. */
export const systemAnnouncements = (runner: SystemTaskRunner): Announcement[] => [
  ...new Set(runner.uses.flatMap((capability) => SYSTEM_CAPABILITY_ACCESS[capability].announces)),
];

export interface SystemRunnerProps {
  /** The runner as registered in runners/registry.ts. */
  readonly runner: SystemTaskRunner;
  readonly table: ITable;
  /**
   * By task, the queues of the tasks that become ready when transients are ingested or revised and that a
   * system runner sends straight to their queues (the others wait for the dispatcher). @default none
   */
  readonly readyQueues?: Readonly<Record<Announcement, ReadonlyMap<string, IQueue>>>;
  /**
   * By set, every task whose ready markers a capability may write (sent at once or not): the first tasks of a
   * new transient, those a revision can make ready, and all transient tasks. @default none
   */
  readonly readyTasks?: Readonly<Record<MarkedTasks, readonly string[]>>;
  /** The scratch data and artifacts, for a runner that declares `scratchAccess` or prunes artifacts. @default none: such a runner is refused */
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
    const marked = new Set(runner.uses.flatMap((capability) => SYSTEM_CAPABILITY_ACCESS[capability].marks.flatMap((set) => props.readyTasks?.[set] ?? [])));
    // Its lock and state are its own items; the ready markers only of the tasks its capabilities can make ready.
    this.handler.grantStore(props.table, systemStoreUse(runner), { lock: [runner.taskName], systemState: [runner.taskName], ready: [...marked] });
    this.handler.grantQueues([...sendsTo.values()], ['SendMessage']);
    this.handler.readSecrets(runner.secretNames, label);
    props.scratch?.grant(this.handler, runner.scratchAccess, label);
    if (runner.uses.includes(SystemCapability.PruneArtifacts)) {
      if (!props.scratch) throw new Error(`${this.node.path}: ${label} prunes artifacts, but no bucket was given`);
      props.scratch.grantArtifacts(functionGrantee(this.handler), [ArtifactAccess.List, ArtifactAccess.Delete], label);
    }
    this.schedule = new RunnerSchedule(this, 'Schedule', { runner, target: this.handler.function });
    this.errorsAlarm = functionErrorsAlarm(this, 'ErrorsAlarm', this.handler.function, slug(runner.taskName), props.alarmAction);
  }
}
