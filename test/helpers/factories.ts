/** Factories for the objects tests build again and again: catalogs, workflows, registers, SQS records. */
import type { SQSRecord } from 'aws-lambda';
import { type Catalog, type StatusDefinition, StatusType } from '../../lib/domain/catalog';
import { type Register, type Registers, type Workflow } from '../../lib/domain/workflow';
import { validateRegistry } from '../../lib/domain/validation';
import { type AnyRunner, type SystemTaskContext, SystemTaskRunner, type TaskContext, type Transient, TransientTaskRunner } from '../../lib/runner';

const at = (file: string, line: number) => ({ file, line });

/** A catalog with Blast's framework statuses, a few error ones, and the given tasks. */
export const catalogOf = (tasks: readonly string[], extraErrors: readonly string[] = ['failed', 'no GHOST match']): Catalog => {
  const statuses: [string, StatusDefinition['type']][] = [
    ['not processed', StatusType.Blank],
    ['processing', StatusType.Warning],
    ['processed', StatusType.Success],
    ['time limit exceeded', StatusType.Error],
    ...extraErrors.map((message): [string, StatusDefinition['type']] => [message, StatusType.Error]),
  ];
  return {
    statuses: new Map(statuses.map(([message, type], index) => [message, { message, type, source: at('status.yaml', index * 5 + 1) }])),
    tasks: new Map(tasks.map((name, index) => [name, { name, source: at('tasks.yaml', index * 3 + 1) }])),
    statusFile: 'status.yaml',
    taskFile: 'tasks.yaml',
  };
};

type Process = (transient: Transient, context: TaskContext) => Promise<string> | string;
type TransientSettings = Pick<
  TransientTaskRunner,
  | 'frequencySeconds'
  | 'timeoutSeconds'
  | 'maxReceiveCount'
  | 'batchSize'
  | 'maxConcurrency'
  | 'readyShards'
  | 'memorySize'
  | 'initiallyEnabled'
  | 'secretNames'
  | 'usesTransientFields'
  | 'usesArtifacts'
  | 'readsArtifacts'
  | 'compute'
  | 'heartbeatSeconds'
  | 'version'
>;
type SystemSettings = Pick<
  SystemTaskRunner,
  'frequencySeconds' | 'timeoutSeconds' | 'memorySize' | 'initiallyEnabled' | 'secretNames' | 'scratchAccess' | 'uses'
>;

/** A transient runner declared inline, as a test needs it. */
export const runner = (
  taskName: string,
  prerequisites: Record<string, string>,
  options: { failed?: string; process?: Process; settings?: Partial<TransientSettings> } = {},
): TransientTaskRunner => {
  const declared = {
    taskName,
    prerequisites,
    failedStatusMessage: options.failed ?? 'failed',
    process: options.process ?? (() => 'processed'),
  };
  class TestRunner extends TransientTaskRunner {
    readonly taskName = declared.taskName;
    readonly prerequisites = declared.prerequisites;
    readonly failedStatusMessage = declared.failedStatusMessage;
    process(transient: Transient, context: TaskContext) {
      return declared.process(transient, context);
    }
  }
  Object.defineProperty(TestRunner, 'name', { value: taskName.replace(/\W/g, '') });
  return Object.assign(new TestRunner(), options.settings ?? {});
};

/** A system runner declared inline (work that belongs to no transient). */
export const systemRunner = (
  taskName: string,
  options: { process?: (context: SystemTaskContext) => Promise<void> | void; settings?: Partial<SystemSettings> } = {},
): SystemTaskRunner => {
  const process = options.process ?? (() => undefined);
  class TestSystemRunner extends SystemTaskRunner {
    readonly taskName = taskName;
    process(context: SystemTaskContext) {
      return process(context);
    }
  }
  Object.defineProperty(TestSystemRunner, 'name', { value: taskName.replace(/\W/g, '') });
  return Object.assign(new TestSystemRunner(), options.settings ?? {});
};

/** The diamond A → {B, C} → D used across the unit tests. */
export const diamondRunners = (): AnyRunner[] => [
  runner('A', { A: 'not processed' }),
  runner('B', { A: 'processed', B: 'not processed' }),
  runner('C', { A: 'processed', C: 'not processed' }),
  runner('D', { B: 'processed', C: 'processed', D: 'not processed' }),
];

export const workflowOf = (runners: readonly AnyRunner[], catalog = catalogOf(runners.map((r) => r.taskName))): Workflow => {
  const { issues, workflow } = validateRegistry(catalog, runners);
  if (issues.length > 0) throw new Error(issues.join('\n'));
  return workflow;
};

export const registers = (statuses: Record<string, string>): Registers =>
  Object.fromEntries(Object.entries(statuses).map(([task, status]): [string, Register] => [task, { status }]));

export const sampleTransient = (name = '2010H', overrides: Partial<Transient> = {}): Transient => ({
  name,
  raDeg: 121.6015,
  decDeg: 1.03586,
  publicTimestamp: '2010-01-16T00:00:00.000Z',
  ...overrides,
});

export const sqsRecord = (body: unknown, overrides: Partial<SQSRecord> & { receiveCount?: number } = {}): SQSRecord => {
  const { receiveCount = 1, ...rest } = overrides;
  return {
    messageId: 'a1b2c3d4-0000-4000-8000-000000000001',
    receiptHandle: `handle-${Math.random()}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '0',
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:test',
    awsRegion: 'us-east-1',
    ...rest,
  };
};
