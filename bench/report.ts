/** The benchmark's readable table, its breakdowns, and the one-line JSON that ends the output. */
import type { Measurements, RunFigures, Summary } from './results';
import { GOALS, fastestRun, idleMonthlyUsd, localLimitExecutionsPerSecond, systemMonthlyUsd } from './results';
import { steadyRate } from './stats';
import { AWS_CALL_LATENCY_MS } from './cost';
import { PRICES_CHECKED_ON } from './prices';

const SENDERS_NOTE = "a runner's batch size and maximum concurrency";
const mark = (met: boolean) => (met ? '✓' : '✗ MISSED');
const num = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const usd = (value: number) => `$${num(value, 2)}`;
const ms = (value: number) => `${num(value, value < 10 ? 1 : 0)} ms`;

const table = (rows: readonly (readonly string[])[]): string[] => {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => `  ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')}`.trimEnd());
};

export const renderReport = (m: Measurements, summary: Summary, chained: RunFigures, scheduleOnly: RunFigures): string[] => {
  const { readAmplification: reads, memory } = m;
  const throughput = fastestRun(m.throughputRuns).run;
  const goals = summary.goalsMet;
  const lines: string[] = [];
  lines.push(
    `Blast task runners — benchmark (${m.mode}), DynamoDB Local and the SQS emulator on ${m.loadAverage.cores} cores, ` +
      `load average ${num(m.loadAverage.start, 1)} at the start and ${num(m.loadAverage.end, 1)} at the end, ${num(m.elapsedMs / 1000)} s`,
    '',
  );
  lines.push(
    ...table([
      ['figure', 'measured', 'baseline, same run', 'goal', ''],
      [
        `Dispatch read amplification (${num(reads.transients)} transients, ${num(reads.ready)} ready)`,
        num(summary.readAmplification, 3),
        `naive table scan: ${num(summary.naiveReadAmplification, 1)}`,
        `≤ ${GOALS.readAmplification.max}`,
        mark(goals.readAmplification),
      ],
      [
        'DynamoDB write units per execution, register (history apart)',
        `${num(summary.wruPerExecution - summary.historyWruPerExecution, 2)} (${num(summary.wruPerExecution, 2)} with history)`,
        `floor: ${summary.wruFloor} (claim + completion of a ${num(m.floorItemBytes)} B item)`,
        `≤ ${num(GOALS.wruPerFloor.max * summary.wruFloor, 1)} (${GOALS.wruPerFloor.max}× floor)`,
        mark(goals.wruPerFloor),
      ],
      [
        '  of which run history (one record per attempt)',
        num(summary.historyWruPerExecution, 2),
        'one write of under 1 KB per attempt',
        `≤ ${GOALS.historyWruPerExecution.max}`,
        mark(goals.historyWruPerExecution),
      ],
      ['DynamoDB read units per execution', num(summary.rruPerExecution, 3), `naive scan per tick: ${num(reads.naive.readUnits / Math.max(1, reads.naive.dispatched), 1)} per dispatch`, '', ''],
      [
        'Chaining latency p50 / p99',
        `${ms(summary.chainLatencyP50Ms)} / ${ms(summary.chainLatencyP99Ms)}`,
        `schedule only: ${ms(summary.scheduleOnlyLatencyP50Ms)} / ${ms(scheduleOnly.latencyP99Ms)}`,
        `p50 < ${GOALS.chainLatencyP50Ms.max} ms`,
        mark(goals.chainLatencyP50Ms),
      ],
      [
        'Local throughput, no-op runners',
        `${num(summary.executionsPerSecond, 1)} executions/s`,
        `local limit: ${num(summary.localLimitExecutionsPerSecond, 1)}/s, ratio ${num(summary.throughputRatio, 2)}`,
        `ratio ≥ ${GOALS.throughputRatio.min}`,
        mark(goals.throughputRatio),
      ],
      [
        `Dispatcher peak RSS, draining ${num(memory.backlog)} ready`,
        `${num(summary.dispatcherPeakRssMb, 0)} MB`,
        `loaded, before any work: ${num(memory.loadedRssMb, 0)} MB`,
        `< ${GOALS.dispatcherPeakRssMb.max} MB`,
        mark(goals.dispatcherPeakRssMb),
      ],
      [
        'AWS cost per million executions',
        usd(summary.usdPerMillionExecutions),
        `Step Functions Standard: ≥ ${usd(summary.stepFunctionsUsdPerMillion)}`,
        `≤ ${usd(GOALS.usdPerMillionExecutions.max)}`,
        mark(goals.usdPerMillionExecutions),
      ],
    ]),
  );

  lines.push('', 'Per execution, example workflow (chained vs schedule only):');
  const pair = (label: string, of: (figures: RunFigures) => string) => [label, of(chained), of(scheduleOnly)];
  lines.push(
    ...table([
      ['', 'chained', 'schedule only'],
      pair('transients / task executions', (f) => `${num(f === chained ? m.chained.pipeline.transients : m.scheduleOnly.pipeline.transients)} / ${num(f.executions)}`),
      pair('DynamoDB write units (framework)', (f) => num(f.wruPerExecution, 2)),
      pair('  of which run history (one record per attempt)', (f) => `${num(f.historyWruPerExecution, 2)} (register alone: ${num(f.wruPerExecution - f.historyWruPerExecution, 2)})`),
      pair('DynamoDB read units (framework)', (f) => num(f.rruPerExecution, 3)),
      pair("runners' own outputs: write / read units", (f) => `${num(f.scienceWruPerExecution, 2)} / ${num(f.scienceRruPerExecution, 2)}`),
      pair('SQS requests billed (empty receives apart)', (f) => `${num(f.sqsRequestsPerExecution, 2)} (${num(f.emptyReceivesPerExecution, 2)})`),
      pair('Lambda invocations per execution', (f) => num(f.invocationsPerExecution, 2)),
      pair('worker ms here: waiting + computing', (f) => `${num(f.workerLocalMsPerInvocation, 0)}: ${num(f.workerWaitMsPerInvocation, 0)} + ${num(f.workerComputeMsPerInvocation, 0)}`),
      pair('worker ms billed, waits at AWS latency', (f) => num(f.workerMsPerInvocation, 0)),
      pair('cost: DynamoDB + SQS + Lambda = total', (f) => `${usd(f.cost.dynamodb)} + ${usd(f.cost.sqs)} + ${usd(f.cost.lambda)} = ${usd(f.cost.total)}`),
      pair('handler logs and metrics (CloudWatch Logs)', (f) => `${num(f.logBytesPerExecution, 0)} B`),
      pair('DynamoDB Local UpdateItem / emulator send, average', (f) => `${ms(f.updateItemMs)} / ${ms(f.sendMs)}`),
    ]),
  );
  const runners = 12;
  lines.push(
    '',
    `Ingest for the latency runs: ${num(m.chainIngestPerSecond, 2)} transients/s (a quarter of the local limit). ` +
      `Finished items: ${num(m.chained.pipeline.itemBytes.mean, 0)} B on average, ${num(m.chained.pipeline.itemBytes.max, 0)} B at most.`,
    `Idle schedules (nothing ready) cost about ${usd(idleMonthlyUsd(m.chained, runners, runners))} a month on AWS, whatever the executions.`,
    `Scheduled system runners (${m.systemRunners.names.join(', ')}): about ${usd(systemMonthlyUsd(m.chained, m.systemRunners.runsPerMonth))} a month on AWS ` +
      `(${num(m.systemRunners.runsPerMonth)} runs; ${m.chained.pipeline.functions.system.invocations} here), left out of the figures per execution.`,
    `Local limit: ${m.localLimits
      .map((limit) => `${num(limit.conditionalUpdatesPerSecond, 0)} conditional updates/s and ${num(limit.queueCyclesPerSecond, 0)} queue cycles/s → ${num(localLimitExecutionsPerSecond(limit), 1)} executions/s`)
      .join('; then ')}; the higher is used. The store's rate at ${m.storeConcurrency} calls in flight, the first throughput run's average ` +
      `(${num(m.throughputRuns[0]?.dynamodbConcurrency ?? 0, 1)}); the queue's through the local event source with ${SENDERS_NOTE}.`,
    `Throughput runs: ${m.throughputRuns.map((run) => `${num(steadyRate(run.completions), 1)}/s`).join(' and ')} in the steady middle (10% to 90% done), ` +
      `alternating with the local limit's; the higher is used. It ran ${num(throughput.transients)} transients, ${num(throughput.executions)} executions ` +
      `in ${num(throughput.wallMs / 1000, 1)} s (${num(throughput.executions / (throughput.wallMs / 1000), 1)}/s overall).`,
    `Memory run: ${num(memory.dispatched)} sent in ${num(memory.ms / 1000, 1)} s over ${memory.invocations} invocation(s), ${num(memory.itemsRead)} markers read.`,
    `Prices: AWS list prices, us-east-1, checked ${PRICES_CHECKED_ON} (bench/prices.ts). Step Functions is a lower bound: one transition and one Lambda request per task.`,
    `Lambda time: the framework's own (runners' work left out), its waits on DynamoDB and SQS scaled to ${AWS_CALL_LATENCY_MS.dynamodb} and ${AWS_CALL_LATENCY_MS.sqs} ms a call (bench/cost.ts).`,
  );
  return lines;
};

/** The last line: every figure of the issue, and whether each goal was met. */
export const renderJson = (summary: Summary): string => JSON.stringify(summary);
