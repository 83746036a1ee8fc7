/** What the benchmark tells a pipeline child to run, and what the child reports back. */
import { z } from 'zod';

export const pipelineJobSchema = z.strictObject({
  /** `example`: runners/registry.ts; `noop`: the same workflow with no-op runners. */
  registry: z.enum(['example', 'noop']),
  bundleDir: z.string(),
  /** Where the runtime and the handlers send their calls (the recording proxies when counting). */
  endpoints: z.strictObject({ dynamodb: z.string(), sqs: z.string() }),
  /** DynamoDB Local itself, for the benchmark's own reads, which must not be counted. */
  directDynamodb: z.string(),
  directSqs: z.string(),
  prefix: z.string(),
  transients: z.number().int().positive(),
  /** `bulk`: all at once as ready markers, left to the dispatcher; `steady`: one by one, sent at once, as TNS ingests do. */
  ingest: z.discriminatedUnion('mode', [
    z.strictObject({ mode: z.literal('bulk') }),
    z.strictObject({ mode: z.literal('steady'), perSecond: z.number().positive() }),
  ]),
  /** Off: the workers may send to no queue, so what becomes ready waits for the dispatcher's schedule. */
  chaining: z.boolean(),
  tickMs: z.number().int().positive(),
  timeoutMs: z.number().int().positive(),
  /**
   * Time every invocation and its calls, and read every metric (for cost and latency). Off for the throughput
   * run, whose figure should not pay for that bookkeeping (AsyncLocalStorage slows every promise a little).
   */
  instrument: z.boolean().default(true),
});
export type PipelineJob = z.infer<typeof pipelineJobSchema>;

const functionUsage = z.strictObject({
  invocations: z.number(),
  /** The framework's time, projected to AWS's service latency, rounded up per invocation as Lambda bills. */
  billedMs: z.number(),
  gbSeconds: z.number(),
  /** The framework's time as measured here (no runner work), and its split into waiting and computing. */
  localMs: z.number(),
  waitMs: z.number(),
  computeMs: z.number(),
});
export type FunctionUsage = z.infer<typeof functionUsage>;

export const pipelineResultSchema = z.strictObject({
  transients: z.number(),
  completed: z.number(),
  blocked: z.number(),
  /** Task runs that recorded a final status. */
  executions: z.number(),
  /** From `run()` (or the first ingest) to the last transient finishing. */
  wallMs: z.number(),
  /** Executions acknowledged per worker invocation, at ms since the start. */
  completions: z.array(z.strictObject({ at: z.number(), count: z.number() })),
  /** ReadyToClaim samples (ms) of tasks that have a predecessor, from the workers' EMF metrics. */
  chainLatenciesMs: z.array(z.number()),
  functions: z.strictObject({
    worker: functionUsage,
    dispatching: functionUsage,
    idleDispatch: functionUsage,
    deadLetter: functionUsage,
    /** Scheduled system runners (the snapshot): a cost per tick, kept apart from the executions. */
    system: functionUsage,
  }),
  /** Bytes the handlers wrote to stdout: JSON logs and EMF metrics (CloudWatch Logs in Lambda). */
  logBytes: z.number(),
  emfBytes: z.number(),
  dispatched: z.number(),
  /** DynamoDB calls in flight on average while the work ran: the concurrency the pipeline kept. */
  dynamodbConcurrency: z.number(),
  /** CPU time of the child (handlers, emulated event sources and schedules) from the start to the end. */
  cpuMs: z.number(),
  /** Sizes of the transient items once finished, as DynamoDB bills them (bytes). */
  itemBytes: z.strictObject({ mean: z.number(), max: z.number() }),
});
export type PipelineResult = z.infer<typeof pipelineResultSchema>;
