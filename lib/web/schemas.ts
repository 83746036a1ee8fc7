/**
 * The web view's API, declared once as zod schemas: the API validates every request with them, the page takes
 * its types from them (type-only imports), and docs/web-api.openapi.json is generated from them (openapi.ts).
 */
import { z } from 'zod';
import { statusTypes } from '../domain/catalog';
import { processingStatuses } from '../domain/workflow';

// ---- requests ------------------------------------------------------------------------------------------------

const name = z.string().min(1).max(200);
const isoTime = z.iso.datetime({ offset: true }).describe('ISO 8601 time, e.g. 2024-01-31T00:00:00Z');

export const ProcessingStatusSchema = z.enum(processingStatuses);
export const StatusTypeSchema = z.enum(statusTypes);

/** Query of GET /transients: filters and paging (query strings are text, so numbers are coerced). */
export const TransientsQuery = z
  .strictObject({
    status: ProcessingStatusSchema.optional().describe('only transients with this processing status'),
    task: name.optional().describe('with taskStatus or taskType: the task whose register is filtered on'),
    taskStatus: name.optional().describe("only transients whose register of `task` has this status (e.g. 'failed')"),
    taskType: StatusTypeSchema.optional().describe("only transients whose register of `task` has a status of this type (e.g. 'error')"),
    from: isoTime.optional().describe('public timestamp at or after'),
    to: isoTime.optional().describe('public timestamp before'),
    stale: name.optional().describe("only transients whose result of this task is stale (its version changed, or an upstream result it used is stale), as `list --stale TASK`"),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    after: z.string().min(1).max(400).optional().describe('the `next` of the previous page'),
  })
  .refine((query) => (query.taskStatus === undefined && query.taskType === undefined) || query.task !== undefined, {
    message: 'taskStatus and taskType need task',
    path: ['task'],
  });
export type TransientsQuery = z.output<typeof TransientsQuery>;

export const DeadLettersQuery = z.strictObject({
  task: name.optional().describe("one runner's task; every transient runner's when absent"),
});

export const RedriveBody = z.strictObject({
  names: z.array(name).max(500).optional().describe("only these transients' dead letters; every one of the task's when absent"),
});

export const EmptyQuery = z.strictObject({});

// ---- responses -----------------------------------------------------------------------------------------------

export const ErrorBody = z.object({
  error: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const WorkflowBody = z.object({
  tasks: z.array(
    z.object({
      name: z.string(),
      prerequisites: z.record(z.string(), z.string()).describe('task → the status it must have (the task itself: "not processed")'),
      runner: z.enum(['transient', 'system', 'none']),
    }),
  ).describe("every task in the workflow's topological order"),
  edges: z.array(z.object({ from: z.string(), to: z.string(), status: z.string() })).describe("the workflow graph's edges (lib/domain/graph.ts)"),
  statuses: z.array(z.object({ message: z.string(), type: StatusTypeSchema })),
});
export type WorkflowBody = z.infer<typeof WorkflowBody>;

/** One cell of the grid: a task's status for one transient. */
export const Cell = z.object({
  status: z.string(),
  type: StatusTypeSchema,
  blocked: z.boolean().optional().describe('can never run until a register is reset'),
});
export type Cell = z.infer<typeof Cell>;

export const TransientData = z.object({
  name: z.string(),
  raDeg: z.number(),
  decDeg: z.number(),
  publicTimestamp: z.string(),
  redshift: z.number().optional(),
  spectroscopicClass: z.string().optional(),
});

export const TransientRow = z.object({
  name: z.string(),
  publicTimestamp: z.string(),
  processingStatus: ProcessingStatusSchema,
  progress: z.number().describe('percent, as Blast computes it'),
  cells: z.array(Cell).describe("in the order of /workflow's tasks"),
  staleReasons: z.array(z.string()).optional().describe('with the stale filter: why its result of that task is stale'),
});
export type TransientRow = z.infer<typeof TransientRow>;

export const TransientsBody = z.object({
  items: z.array(TransientRow),
  next: z.string().optional().describe('pass as `after` for the next page; absent on the last page'),
  scanned: z.number().describe('transients read for this page (more than items when a task filter left some out)'),
});
export type TransientsBody = z.infer<typeof TransientsBody>;

export const ArtifactBody = z.object({ name: z.string(), key: z.string(), size: z.number(), sha256: z.string() });

export const RegisterBody = z.object({
  task: z.string(),
  status: z.string(),
  type: StatusTypeSchema,
  lastModified: z.number().optional().describe('epoch ms'),
  processingSeconds: z.number().optional(),
  attempt: z.number().optional(),
  lastError: z.string().optional(),
  deadLettered: z.boolean().optional(),
  leaseUntil: z.number().optional(),
  ready: z.boolean().describe('its prerequisites hold and it waits to run'),
  blockedBy: z.array(z.string()).optional().describe('the settled prerequisites that keep it from ever running'),
  version: z.string().optional().describe("the task's version its result was made with"),
  currentVersion: z.string().optional().describe("the task's version now: what its next run records"),
  staleReasons: z.array(z.string()).optional().describe('why its result is stale, as `status NAME` says; absent when it is not'),
  lane: z.literal('backfill').optional().describe('reset by a backfill: it runs in the backfill lane, behind live work'),
  output: z
    .object({
      data: z.record(z.string(), z.unknown()).optional(),
      spilled: ArtifactBody.optional(),
      artifacts: z.array(ArtifactBody).optional(),
    })
    .optional()
    .describe('what the run the register holds saved'),
});
export type RegisterBody = z.infer<typeof RegisterBody>;

/** Where an attempt's log lines are: a CloudWatch Logs link when deployed, the local runtime's log file here. */
export const LogBody = z.object({
  text: z.string(),
  href: z.string().optional(),
});

/** One attempt of a task, from the run history (`history NAME TASK`). */
export const RunBody = z.object({
  task: z.string(),
  run: z.string().describe('the run id (its claim token): `history NAME TASK --run ID`'),
  attempt: z.number().describe('the delivery attempt (SQS receive count)'),
  startedAt: z.number().describe('epoch ms of its claim'),
  endedAt: z.number().optional().describe('epoch ms (for an attempt that never settled: when its claim was taken over)'),
  durationMs: z.number().optional(),
  status: z.string().describe('what it came to ("not processed" when a retry follows; "time limit exceeded" for an attempt that never settled, "processing" if a reset took its claim); a run is recorded when it ends'),
  type: StatusTypeSchema,
  error: z.string().optional(),
  recorded: z.boolean().optional().describe('false when its result was not recorded (its claim was lost to a reset)'),
  current: z.boolean().describe('the register holds its result'),
  version: z.string(),
  fingerprint: z.string().describe('digest of its inputs'),
  log: LogBody.optional(),
  artifacts: z.array(z.string()).optional(),
});
export type RunBody = z.infer<typeof RunBody>;

export const TransientBody = z.object({
  transient: TransientData,
  processingStatus: ProcessingStatusSchema,
  progress: z.number(),
  createdAt: z.number(),
  registers: z.array(RegisterBody).describe('in workflow order'),
  runs: z.array(RunBody).describe('every attempt the run history holds, tasks in workflow order, newest first within each'),
});
export type TransientBody = z.infer<typeof TransientBody>;

/** One run, as `history NAME TASK --run ID`: its record, its inputs and the output it saved. */
export const RunDetailBody = RunBody.extend({
  inputs: z.object({
    fields: z.record(z.string(), z.number().nullable()).describe('the transient fields its runner reads, as the run saw them'),
    upstream: z.record(z.string(), z.object({ run: z.string(), version: z.string().optional() })).describe('the upstream results it could read, by task'),
  }),
  output: RegisterBody.shape.output,
});
export type RunDetailBody = z.infer<typeof RunDetailBody>;

export const QueueDepthBody = z.object({
  visible: z.number().describe('messages waiting'),
  inFlight: z.number().describe('messages received and not yet deleted'),
  delayed: z.number(),
});

export const RunnerBody = z.object({
  task: z.string(),
  kind: z.enum(['transient', 'system']),
  frequencySeconds: z.number(),
  initiallyEnabled: z.boolean(),
  queue: QueueDepthBody.optional(),
  deadLetterQueue: QueueDepthBody.optional(),
  deadLetters: z.number().optional().describe('dead-letter records kept for redrive'),
  ready: z
    .object({
      waiting: z.number().describe('ready markers read (at most one page per shard)'),
      more: z.boolean(),
      backfill: z.number().optional().describe('of them, markers in the backfill lane (a backfill is running)'),
      oldestReadyAt: z.number().optional().describe('epoch ms: when the longest-waiting of them became ready'),
    })
    .optional()
    .describe("the ready index's backlog: work recorded as ready that the dispatcher has not sent yet"),
});
export type RunnerBody = z.infer<typeof RunnerBody>;

export const RunnersBody = z.object({ runners: z.array(RunnerBody) });
export type RunnersBody = z.infer<typeof RunnersBody>;

export const DeadLetterBody = z.object({
  task: z.string(),
  name: z.string(),
  at: z.number(),
  receiveCount: z.number(),
  reason: z.string(),
  messageId: z.string(),
  body: z.string(),
  statusNow: z.string().optional().describe("the task's status now (absent when the transient is gone)"),
  typeNow: StatusTypeSchema.optional(),
});
export type DeadLetterBody = z.infer<typeof DeadLetterBody>;

export const DeadLettersBody = z.object({ deadLetters: z.array(DeadLetterBody) });
export type DeadLettersBody = z.infer<typeof DeadLettersBody>;

export const CountsBody = z.object({
  waiting: z.number(),
  processing: z.number(),
  blocked: z.number(),
  completed: z.number(),
  total: z.number(),
});
export type CountsBody = z.infer<typeof CountsBody>;

export const ResetBody = z.object({
  name: z.string(),
  before: ProcessingStatusSchema,
  after: ProcessingStatusSchema,
  reset: z.array(z.object({ task: z.string(), from: z.string() })),
  sent: z.array(z.string()),
  unsent: z.array(z.string()).describe('ready tasks whose send failed: the dispatcher sends them'),
  waiting: z.array(z.string()),
  inFlight: z.array(z.string()),
});
export type ResetBody = z.infer<typeof ResetBody>;

export const RedriveResultBody = z.object({
  redriven: z.array(z.string()),
  skipped: z.array(z.object({ name: z.string(), reason: z.string() })),
  unsent: z.array(z.string()).describe('reset and recorded as ready, not sent: the record is kept'),
});
export type RedriveResultBody = z.infer<typeof RedriveResultBody>;
