/**
 * Turns what the benchmark measured into the figures it reports: per-execution request units, the cost per
 * million executions, the local limit, the goals and whether each is met. Pure functions of the measurements.
 */
import type { DispatcherMemory } from './dispatcher-memory';
import type { LocalLimit } from './local-limit';
import type { PipelineResult } from './pipeline-protocol';
import type { ReadAmplification } from './read-amplification';
import { type CostBreakdown, type FrameworkUsage, stepFunctionsUsdPerMillion, usdPerMillionExecutions } from './cost';
import { prices } from './prices';
import { percentile, round, steadyRate } from './stats';
import { DYNAMODB_READS, DYNAMODB_WRITES, EMPTY, SYSTEM, type UsageLine, sumLines } from './wire-meter';

/** A pipeline run through the recording proxies, with what they counted. */
export interface MeteredRun {
  readonly pipeline: PipelineResult;
  readonly dynamodb: readonly UsageLine[];
  readonly sqs: readonly UsageLine[];
}

export interface Measurements {
  readonly mode: 'quick' | 'full';
  readonly readAmplification: ReadAmplification;
  /** The throughput runs with no-op runners, alternating with the local limit's runs. */
  readonly throughputRuns: readonly PipelineResult[];
  readonly localLimits: readonly LocalLimit[];
  /** DynamoDB calls the pipeline kept in flight, at which the store's rate was measured. */
  readonly storeConcurrency: number;
  readonly chained: MeteredRun;
  readonly scheduleOnly: MeteredRun;
  readonly chainIngestPerSecond: number;
  readonly memory: DispatcherMemory;
  /** The system runners enabled on a schedule, and their runs in a 30-day month at their frequencies. */
  readonly systemRunners: { readonly names: readonly string[]; readonly runsPerMonth: number };
  /** Write units of the smallest item that holds a finished transient's state, as DynamoDB Local bills its PutItem. */
  readonly floorItemWriteUnits: number;
  readonly floorItemBytes: number;
  readonly loadAverage: { readonly start: number; readonly end: number; readonly cores: number };
  readonly elapsedMs: number;
}

/** The runners' own reads and writes (context.output / context.save): their science, not the framework's. */
const isScience = (line: UsageLine) => line.kind === 'output';
/** Run-history items (one per attempt, written at its claim and its settle): the framework's, counted apart too. */
const isHistory = (line: UsageLine) => line.kind === 'history';
/** Queries that found nothing: a schedule's idle probes, a cost per tick rather than per execution. */
const isIdleProbe = (line: UsageLine) => line.kind.endsWith(EMPTY);
/**
 * The scheduled system runners' work (their locks and checkpoints, the counters the snapshot reads): a cost per
 * schedule tick, not per execution. Locally a 60 s schedule fires every second, which would weigh it sixty
 * times over against the executions; it is priced a month at the registry's frequencies instead.
 */
export const isSystemRun = (line: UsageLine) => line.kind === SYSTEM || (line.kind === 'counts' && DYNAMODB_READS.has(line.operation));
const frameworkWrite = (line: UsageLine) => DYNAMODB_WRITES.has(line.operation) && !isScience(line) && !isSystemRun(line);
const frameworkRead = (line: UsageLine) => DYNAMODB_READS.has(line.operation) && !isScience(line) && !isIdleProbe(line) && !isSystemRun(line);

export interface RunFigures {
  readonly executions: number;
  readonly wruPerExecution: number;
  /** Of the write units, those of the run history (the rest: the register and what it makes ready). */
  readonly historyWruPerExecution: number;
  readonly rruPerExecution: number;
  readonly scienceWruPerExecution: number;
  readonly scienceRruPerExecution: number;
  readonly sqsRequestsPerExecution: number;
  readonly emptyReceivesPerExecution: number;
  readonly invocationsPerExecution: number;
  /** The framework's time per worker invocation, projected to AWS; and as measured here, waiting and computing. */
  readonly workerMsPerInvocation: number;
  readonly workerLocalMsPerInvocation: number;
  readonly workerWaitMsPerInvocation: number;
  readonly workerComputeMsPerInvocation: number;
  readonly usage: FrameworkUsage;
  readonly cost: CostBreakdown;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly logBytesPerExecution: number;
  /** How long DynamoDB Local took to answer a claim or a completion, and the emulator a send, on average. */
  readonly updateItemMs: number;
  readonly sendMs: number;
}

const averageMs = (lines: readonly UsageLine[], where: (line: UsageLine) => boolean) =>
  sumLines(lines, 'ms', where) / Math.max(1, sumLines(lines, 'requests', where));

export const runFigures = ({ pipeline, dynamodb, sqs }: MeteredRun): RunFigures => {
  const { executions, functions } = pipeline;
  const per = (value: number) => value / executions;
  const billedSqs = sumLines(sqs, 'units') - sumLines(sqs, 'empty');
  const usage: FrameworkUsage = {
    executions,
    dynamodb: { writeUnits: sumLines(dynamodb, 'units', frameworkWrite), readUnits: sumLines(dynamodb, 'units', frameworkRead) },
    sqs: { billedRequests: billedSqs },
    lambda: {
      invocations: functions.worker.invocations + functions.dispatching.invocations + functions.deadLetter.invocations,
      gbSeconds: functions.worker.gbSeconds + functions.dispatching.gbSeconds + functions.deadLetter.gbSeconds,
    },
  };
  return {
    executions,
    wruPerExecution: per(usage.dynamodb.writeUnits),
    historyWruPerExecution: per(sumLines(dynamodb, 'units', (line) => frameworkWrite(line) && isHistory(line))),
    rruPerExecution: per(usage.dynamodb.readUnits),
    scienceWruPerExecution: per(sumLines(dynamodb, 'units', (line) => isScience(line) && DYNAMODB_WRITES.has(line.operation))),
    scienceRruPerExecution: per(sumLines(dynamodb, 'units', (line) => isScience(line) && DYNAMODB_READS.has(line.operation))),
    sqsRequestsPerExecution: per(billedSqs),
    emptyReceivesPerExecution: per(sumLines(sqs, 'empty')),
    invocationsPerExecution: per(usage.lambda.invocations),
    workerMsPerInvocation: functions.worker.billedMs / Math.max(1, functions.worker.invocations),
    workerLocalMsPerInvocation: functions.worker.localMs / Math.max(1, functions.worker.invocations),
    workerWaitMsPerInvocation: functions.worker.waitMs / Math.max(1, functions.worker.invocations),
    workerComputeMsPerInvocation: functions.worker.computeMs / Math.max(1, functions.worker.invocations),
    usage,
    cost: usdPerMillionExecutions(usage),
    latencyP50Ms: percentile(pipeline.chainLatenciesMs, 50),
    latencyP99Ms: percentile(pipeline.chainLatenciesMs, 99),
    logBytesPerExecution: per(pipeline.logBytes + pipeline.emfBytes),
    updateItemMs: averageMs(dynamodb, (line) => line.operation === 'UpdateItem'),
    sendMs: averageMs(sqs, (line) => line.operation === 'SendMessageBatch'),
  };
};

/** The throughput run with the higher steady rate, as the local limit takes its higher run. */
export const fastestRun = (runs: readonly PipelineResult[]): { run: PipelineResult; executionsPerSecond: number } => {
  const rated = runs.map((run) => ({ run, executionsPerSecond: steadyRate(run.completions) }));
  const [first, ...rest] = rated;
  if (!first) throw new Error('no throughput run to rate');
  return rest.reduce((best, next) => (next.executionsPerSecond > best.executionsPerSecond ? next : best), first);
};

/** Conditional updates every execution needs at least: its claim and its completion. */
export const UPDATES_PER_EXECUTION = 2;

/**
 * The executions per second the store and the queue allow together. Each rate was measured with the
 * machine to itself, and the pipeline needs both on the same two cores, so their times per execution add:
 * 1 / (2 / updates per second + 1 / queue cycles per second).
 */
export const localLimitExecutionsPerSecond = (limit: LocalLimit): number =>
  1 / (UPDATES_PER_EXECUTION / limit.conditionalUpdatesPerSecond + 1 / limit.queueCyclesPerSecond);

export const GOALS = {
  readAmplification: { max: 1.1 },
  /**
   * The register protocol's write units per execution (claim, completion, ingest, ready markers, counters) against
   * the floor of a claim and a completion. Set before run history existed, and kept for what it measures: history is
   * a separate write the issue asked for (one item per attempt, beside the register), with a goal of its own below.
   */
  wruPerFloor: { max: 2.5 },
  /**
   * Run history's write units per execution: one record per attempt, written once when it ends, under 1 KB (one
   * unit); attempts per execution are a little over one when runs are retried, and an attempt taken over adds one.
   */
  historyWruPerExecution: { max: 1.1 },
  chainLatencyP50Ms: { max: 100 },
  throughputRatio: { min: 0.6 },
  dispatcherPeakRssMb: { max: 256 },
  /**
   * AWS cost per million executions, history on. Set before run history existed; history's write adds about $1.25 (one
   * unit at $1.25 per million), and the goal is left where it was: it says what the framework should cost.
   */
  usdPerMillionExecutions: { max: 4 },
} as const;

export interface Summary {
  readonly mode: 'quick' | 'full';
  readonly readAmplification: number;
  readonly naiveReadAmplification: number;
  readonly wruPerExecution: number;
  /** Of which the run history's (history on vs the register alone: `wruPerExecution` less this). */
  readonly historyWruPerExecution: number;
  readonly rruPerExecution: number;
  readonly wruFloor: number;
  readonly chainLatencyP50Ms: number;
  readonly chainLatencyP99Ms: number;
  readonly scheduleOnlyLatencyP50Ms: number;
  readonly executionsPerSecond: number;
  readonly localLimitExecutionsPerSecond: number;
  readonly throughputRatio: number;
  readonly dispatcherPeakRssMb: number;
  /** Ready transients drained while the dispatcher's memory was watched. */
  readonly dispatcherBacklog: number;
  readonly usdPerMillionExecutions: number;
  readonly stepFunctionsUsdPerMillion: number;
  readonly goalsMet: Readonly<Record<keyof typeof GOALS, boolean>>;
}

export const summarise = (m: Measurements): { summary: Summary; chained: RunFigures; scheduleOnly: RunFigures } => {
  const chained = runFigures(m.chained);
  const scheduleOnly = runFigures(m.scheduleOnly);
  const readAmplification = m.readAmplification.ours.itemsRead / m.readAmplification.ours.dispatched;
  const naiveReadAmplification = m.readAmplification.naive.itemsRead / m.readAmplification.naive.dispatched;
  const wruFloor = UPDATES_PER_EXECUTION * m.floorItemWriteUnits;
  const { executionsPerSecond } = fastestRun(m.throughputRuns);
  const limit = Math.max(...m.localLimits.map(localLimitExecutionsPerSecond));
  const throughputRatio = executionsPerSecond / limit;
  const usd = chained.cost.total;
  return {
    chained,
    scheduleOnly,
    summary: {
      mode: m.mode,
      readAmplification: round(readAmplification, 3),
      naiveReadAmplification: round(naiveReadAmplification, 1),
      wruPerExecution: round(chained.wruPerExecution, 2),
      historyWruPerExecution: round(chained.historyWruPerExecution, 2),
      rruPerExecution: round(chained.rruPerExecution, 3),
      wruFloor,
      chainLatencyP50Ms: round(chained.latencyP50Ms, 1),
      chainLatencyP99Ms: round(chained.latencyP99Ms, 1),
      scheduleOnlyLatencyP50Ms: round(scheduleOnly.latencyP50Ms, 1),
      executionsPerSecond: round(executionsPerSecond, 1),
      localLimitExecutionsPerSecond: round(limit, 1),
      throughputRatio: round(throughputRatio, 2),
      dispatcherPeakRssMb: round(m.memory.peakRssMb, 1),
      dispatcherBacklog: m.memory.backlog,
      usdPerMillionExecutions: round(usd, 2),
      stepFunctionsUsdPerMillion: round(stepFunctionsUsdPerMillion(), 2),
      goalsMet: {
        readAmplification: readAmplification <= GOALS.readAmplification.max,
        wruPerFloor: chained.wruPerExecution - chained.historyWruPerExecution <= GOALS.wruPerFloor.max * wruFloor,
        historyWruPerExecution: chained.historyWruPerExecution <= GOALS.historyWruPerExecution.max,
        chainLatencyP50Ms: chained.latencyP50Ms < GOALS.chainLatencyP50Ms.max,
        throughputRatio: throughputRatio >= GOALS.throughputRatio.min,
        dispatcherPeakRssMb: m.memory.peakRssMb < GOALS.dispatcherPeakRssMb.max,
        usdPerMillionExecutions: usd <= GOALS.usdPerMillionExecutions.max,
      },
    },
  };
};

/** What the schedules cost a month on AWS with nothing to do (one dispatcher run per runner a minute). */
export const idleMonthlyUsd = (run: MeteredRun, runners: number, probesPerTick: number): number => {
  const ticksPerMonth = runners * 60 * 24 * 30;
  const idle = run.pipeline.functions.idleDispatch;
  const gbSecondsPerTick = idle.invocations > 0 ? idle.gbSeconds / idle.invocations : 0;
  // An empty strongly consistent query is billed one read unit, DynamoDB's minimum, whatever DynamoDB Local reports.
  const probeUsd = (probesPerTick / runners) * prices.dynamodb.usdPerMillionReadUnits * 1e-6;
  return ticksPerMonth * (prices.lambda.usdPerMillionRequests * 1e-6 + gbSecondsPerTick * prices.lambda.usdPerGbSecond + probeUsd);
};

/**
 * What the scheduled system runners cost a month on AWS, `runsPerMonth` runs (from their frequencies) at the
 * average run measured: its DynamoDB units and its Lambda request and time.
 */
export const systemMonthlyUsd = (run: MeteredRun, runsPerMonth: number): number => {
  const system = run.pipeline.functions.system;
  if (system.invocations === 0) return 0;
  const units = (operations: ReadonlySet<string>) => sumLines(run.dynamodb, 'units', (line) => isSystemRun(line) && operations.has(line.operation));
  const usdPerRun =
    (units(DYNAMODB_WRITES) * prices.dynamodb.usdPerMillionWriteUnits + units(DYNAMODB_READS) * prices.dynamodb.usdPerMillionReadUnits) * 1e-6 / system.invocations +
    prices.lambda.usdPerMillionRequests * 1e-6 +
    (system.gbSeconds / system.invocations) * prices.lambda.usdPerGbSecond;
  return runsPerMonth * usdPerRun;
};
