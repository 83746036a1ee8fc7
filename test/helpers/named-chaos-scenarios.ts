/**
 * Named chaos scenarios: every fault of issue 7, each aimed by the fault plan at transients named after it,
 * through the real handlers on DynamoDB Local and the SQS emulator. All scenarios run in one pipeline at
 * once; each checks its own outcome, and the last test checks every invariant over the whole run. The same
 * scenarios run over runners written in TypeScript (chaos-scenarios.test.ts) and in Python, whose runs happen in
 * their own functions (python-chaos-scenarios.test.ts): the protocol around a run is the engine's either way.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poisonMessages } from '../../lib/chaos/driver';
import { INVALID_STATUS } from '../../lib/chaos/inject';
import { type JournalEvent, readJournal } from '../../lib/chaos/journal';
import { Fault, type FaultPlanSpec } from '../../lib/chaos/plan';
import { checkRun, waitUntilSettled } from '../../lib/local/chaos-run';
import { ProcessingStatus, type Register } from '../../lib/domain/workflow';
import { ingestTransients } from '../../lib/engine/ingest';
import { deadLettersOf, reprocess, retrigger } from '../../lib/engine/operations';
import { lambdaContext } from '../../lib/local/lambda-context';
import type { LocalRuntime } from '../../lib/local/runtime';
import { describePythonRunners } from '../../lib/python/declarations';
import { type AnyRunner, PythonTransientRunner } from '../../lib/runner';
import { runner, sampleTransient, sqsRecord } from './factories';
import { fixturesWithTasks, startTestRuntime, waitFor } from './local-stack';

const RETRY_BASE_SECONDS = 2;
const TASKS = ['A', 'B', 'C', 'D'] as const;
const PREREQUISITES: Record<(typeof TASKS)[number], readonly string[]> = { A: [], B: ['A'], C: ['A'], D: ['B', 'C'] };

/** The diamond A → B, C → D, and how a test holds A's run of a "held-…" transient until it lets it go. */
interface Diamond {
  readonly runners: readonly AnyRunner[];
  /** Whether A's run of the transient is waiting to be let go. */
  isHeld(name: string): boolean;
  release(name: string): void;
}

const typeScriptDiamond = (): Diamond => {
  /** Runs of "held-…" transients wait here until the test lets them go. */
  const held = new Map<string, () => void>();
  /** A's run of a "held-…" transient waits until the test lets it go (or its function is about to time out). */
  const process = (task: string) => async (transient: { name: string }, context: { signal: AbortSignal }) => {
    if (transient.name.startsWith('held') && task === 'A') {
      await new Promise<void>((resolve) => {
        held.set(transient.name, resolve);
        context.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      held.delete(transient.name);
    }
    return 'processed';
  };
  // Timeouts long enough for a loaded machine, short enough that a redelivery (6 × timeout) comes back in 24 s.
  const settings = { timeoutSeconds: 4, maxReceiveCount: 3 };
  return {
    runners: TASKS.map((task) => runner(task, Object.fromEntries(PREREQUISITES[task].map((before) => [before, 'processed'])), { process: process(task), settings })),
    isHeld: (name) => held.has(name),
    release: (name) => held.get(name)?.(),
  };
};

/** The function's timeout of the Python runs, and their workers' (the margin is AWS's 15 s, shortened here so a redelivery comes back in 42 s). */
const PYTHON_FUNCTION_TIMEOUT_SECONDS = 5;
const PYTHON_WORKER_TIMEOUT_SECONDS = 7;

const pythonDiamond = (): Diamond => {
  const dir = mkdtempSync(join(tmpdir(), 'python-scenarios-'));
  // A's run of a "held-…" transient says so with a file, and waits for the test's file letting it go.
  const runnerClass = (task: string) => `
class ${task}(TransientTaskRunner):
    task_name = "${task}"
    timeout_seconds = ${PYTHON_FUNCTION_TIMEOUT_SECONDS}
    max_receive_count = 3

    def _prerequisites(self):
        return {${[...PREREQUISITES[task as (typeof TASKS)[number]].map((before) => `"${before}": "processed"`), `"${task}": "not processed"`].join(', ')}}

    def _run_process(self, transient):
        if transient.name.startswith("held") and self.task_name == "A":
            marker = os.path.join(HOLD_DIR, transient.name)
            open(marker + ".held", "w").close()
            while not os.path.exists(marker + ".go"):
                time.sleep(0.02)
            os.remove(marker + ".held")
        return "processed"
`;
  const file = join(dir, 'diamond.py');
  writeFileSync(file, ['import os', 'import time', 'from blast_tasks import TransientTaskRunner', `HOLD_DIR = ${JSON.stringify(dir)}`, ...TASKS.map(runnerClass)].join('\n'));
  const runners = describePythonRunners([file]).map((declared) => Object.assign(new PythonTransientRunner(declared), { timeoutSeconds: PYTHON_WORKER_TIMEOUT_SECONDS }));
  return {
    runners,
    isHeld: (name) => existsSync(join(dir, `${name}.held`)),
    release: (name) => writeFileSync(join(dir, `${name}.go`), ''),
  };
};

/** Each fault hits only the transients named after it ("name/task" for a runner's run, the name for an item's AWS calls). */
const plan = (journal: string): FaultPlanSpec => ({
  seed: 7,
  journal,
  faults: {
    [Fault.RunnerThrows]: [
      { rate: 1, firstTries: 2, match: '^throws/' },
      { rate: 1, match: '^exhausted/A$' },
    ],
    [Fault.RunnerGivesUp]: { rate: 1, match: '^gives-up/' },
    [Fault.InvalidStatus]: { rate: 1, match: '^invalid/' },
    [Fault.Overrun]: { rate: 1, firstTries: 1, match: '^overrun/D$' },
    [Fault.Kill]: [
      { rate: 1, firstTries: 1, match: '^crash/D$', step: '^before transients\\.settle$' },
      { rate: 1, firstTries: 1, match: '^dispatch/', step: '^before readiness\\.delete$' },
    ],
    [Fault.PartialSendFailure]: { rate: 1, firstTries: 3, match: '^partial/' },
    [Fault.DuplicateSend]: { rate: 1, match: '^duplicate/' },
    [Fault.DelayedSend]: { rate: 1, match: '^delayed/' },
    [Fault.Throttle]: { rate: 1, firstTries: 1, match: '^throttled$' },
    [Fault.LostResponse]: { rate: 1, firstTries: 1, match: '^lost$' },
    [Fault.Contention]: { rate: 1, firstTries: 1, match: '^held-contended$' },
  },
});

/** Ingested at the start, and running side by side; the timing-sensitive ones are ingested by their own tests. */
const scenarios = [
  'throws',
  'exhausted',
  'gives-up',
  'invalid',
  'partial',
  'duplicate',
  'delayed',
  'throttled',
  'lost',
];

/** The named scenarios over the diamond written in `language`. */
export const describeNamedScenarios = (language: 'TypeScript' | 'Python') =>
  describe(`Integration: named chaos scenarios, runners in ${language}`, () => {
  const diamond = language === 'Python' ? pythonDiamond() : typeScriptDiamond();
  let runtime: LocalRuntime;
  let journal: string;
  /** The first register of "throws" seen waiting for its retry (watched from the start, as it passes quickly). */
  let waitingForRetry: Promise<Register>;
  const names = [...scenarios, 'dispatch'];
  /** Ingests a transient whose test watches it from its very start. */
  const start = async (name: string) => {
    names.push(name);
    await ingestTransients(runtime.engine, [sampleTransient(name)], { announce: true });
  };
  const record = (name: string) => runtime.engine.store.transients.get(name);
  const finished = (name: string, timeoutMs = 60_000) =>
    waitFor(
      `${name} to be completed or blocked`,
      async () => {
        const found = await record(name);
        return found && found.processingStatus !== ProcessingStatus.Processing && found;
      },
      timeoutMs,
    );
  const events = () => readJournal(journal);
  const runsOf = (all: readonly JournalEvent[], name: string, task: string) =>
    all.filter((event) => event.type === 'run-start' && event.transient === name && event.task === task);
  const faultsOf = (all: readonly JournalEvent[], fault: Fault) => all.filter((event) => event.type === 'fault' && event.fault === fault);

  beforeAll(async () => {
    journal = join(mkdtempSync(join(tmpdir(), 'chaos-')), 'journal.jsonl');
    runtime = await startTestRuntime(diamond.runners, {
      fixturesDir: fixturesWithTasks(['A', 'B', 'C', 'D']),
      // Retry delays of 1–2 s, then 2–4 s: long enough to see them grow, short enough for the suite.
      retryBaseSeconds: RETRY_BASE_SECONDS,
      tickMs: 1_000,
      chaos: plan(journal),
      onPythonOutput: () => undefined,
    });
    runtime.run();
    await ingestTransients(runtime.engine, scenarios.map((name) => sampleTransient(name)), { announce: true });
    waitingForRetry = waitFor('a task of throws to wait for its retry', async () => {
      const found = await record('throws');
      return Object.values(found?.registers ?? {}).find((register) => register?.lastError && register.status === 'not processed');
    });
    // Awaited by its test; a failure before then must not count as unhandled.
    waitingForRetry.catch(() => undefined);
    // Left to the dispatcher, whose first run dies between sending and deleting its markers.
    await ingestTransients(runtime.engine, [sampleTransient('dispatch')], { announce: false });
  });
  afterAll(() => runtime?.stop());

  it('reprocess while a task runs: the old run is refused, the new one completes', async () => {
    await start('held-reprocess');
    await waitFor('A to be held', async () => diamond.isHeld('held-reprocess'));
    const result = await reprocess(runtime.engine, 'held-reprocess');
    diamond.release('held-reprocess');
    const final = await finished('held-reprocess');
    expect(result?.inFlight).toEqual(['A']);
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
  });

  it('retrigger while a task runs leaves the run alone', async () => {
    await start('held-retrigger');
    await waitFor('A to be held', async () => diamond.isHeld('held-retrigger'));
    const result = await retrigger(runtime.engine, 'held-retrigger');
    diamond.release('held-retrigger');
    const final = await finished('held-retrigger');
    expect(result).toMatchObject({ reset: [], inFlight: ['A'] });
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    expect(runsOf(events(), 'held-retrigger', 'A')).toHaveLength(1);
  });

  it('a reset that meets a competing writer retries, and wins', async () => {
    await start('held-contended');
    await waitFor('A to be held', async () => diamond.isHeld('held-contended'));
    diamond.release('held-contended');
    await finished('held-contended');
    const result = await reprocess(runtime.engine, 'held-contended');
    const final = await finished('held-contended');
    expect(result?.reset).toHaveLength(4);
    expect(faultsOf(events(), Fault.Contention).length).toBeGreaterThanOrEqual(1);
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
  });

  it('a transient deleted while a task runs: nothing its runs do afterwards is recorded', async () => {
    await start('held-delete');
    await waitFor('A to be held', async () => diamond.isHeld('held-delete'));
    const deletedAt = Date.now();
    await runtime.engine.store.transients.delete('held-delete');
    diamond.release('held-delete');
    await waitFor('every run of held-delete to end', async () => {
      const all = events().filter((event) => 'transient' in event && event.transient === 'held-delete');
      const started = all.filter((event) => event.type === 'run-start').length;
      return started > 0 && all.filter((event) => event.type === 'run-end').length === started;
    });

    expect(await record('held-delete')).toBeUndefined();
    expect(events().filter((event) => event.type === 'settle' && event.transient === 'held-delete' && event.ok && event.at > deletedAt)).toEqual([]);
  });

  it('a runner that throws is retried after a delay, showing the attempt and error meanwhile, and may then succeed', async () => {
    const waiting = await waitingForRetry;
    const final = await finished('throws');

    expect(waiting).toMatchObject({ attempt: expect.any(Number), lastError: expect.stringMatching(/InjectedRunnerError: injected failure of [ABCD] on attempt [12]/) });
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    for (const task of ['A', 'B', 'C', 'D']) expect(final.registers[task]).toMatchObject({ status: 'processed', attempt: 3 });
  });

  it('a runner that throws on every attempt is retried after growing delays, and its failed status recorded at maxReceiveCount', async () => {
    const final = await finished('exhausted');
    const all = events();
    // A second message for the task (the ingest's send racing a dispatcher run) runs attempts of its own.
    const runs = runsOf(all, 'exhausted', 'A').flatMap((event) => (event.type === 'run-start' ? [event] : []));
    const settles = all.flatMap((event) => (event.type === 'settle' && event.transient === 'exhausted' && event.task === 'A' ? [event] : []));
    const messages = [...new Set(runs.map((event) => event.runId.split('.')[0]))];
    // Each run holds a token of its own invocation: no two runs share one.
    expect(new Set(runs.map((event) => event.runId)).size).toBe(runs.length);

    // Each message's attempts ran in turn, each recorded: a retry waiting in "not processed", or at the third the failed status.
    const attemptOf = (runId: string) => runs.find((event) => event.runId === runId)?.attempt;
    expect(settles.filter((event) => event.status === 'failed').map((event) => ({ ok: event.ok, attempt: attemptOf(event.runId) }))).toEqual([{ ok: true, attempt: 3 }]);
    for (const message of messages) {
      const own = runs.filter((event) => event.runId.startsWith(`${message}.`));
      expect(own.map((event) => event.attempt)).toEqual(own.map((_, index) => index + 1));
      for (const [index, run] of own.entries()) {
        if (index === 0) continue;
        // The message stayed away at least half of base·2^(attempt-1) seconds after its failure: 1 s, then 2 s.
        const failedAt = settles.find((event) => event.runId === own[index - 1]?.runId);
        expect(failedAt).toMatchObject({ status: 'not processed', ok: true });
        expect(run.at - (failedAt?.at ?? Number.POSITIVE_INFINITY)).toBeGreaterThanOrEqual(RETRY_BASE_SECONDS * 2 ** (index - 1) * 500 - 50);
      }
    }
    expect(final.registers.A).toMatchObject({ status: 'failed', attempt: 3, lastError: expect.stringMatching(/InjectedRunnerError: injected failure of A on attempt 3/) });
    expect(final.processingStatus).toBe(ProcessingStatus.Blocked);
    // Recorded by the worker on the last attempt, not left to the dead-letter queue.
    expect((await deadLettersOf(runtime.engine, 'A')).filter((letter) => letter.name === 'exhausted')).toEqual([]);
  });

  it('a non-retryable error records the failed status at once', async () => {
    const final = await finished('gives-up');
    expect(final.registers.A).toMatchObject({ status: 'failed', attempt: 1, lastError: expect.stringMatching(/NonRetryableTaskError/) });
    expect(final.processingStatus).toBe(ProcessingStatus.Blocked);
  });

  it('a status not in the fixtures records the failed status with the reason, without retrying', async () => {
    const final = await finished('invalid');
    expect(final.registers.A).toMatchObject({ status: 'failed', attempt: 1, lastError: expect.stringContaining(`returned "${INVALID_STATUS}"`) });
    expect(runsOf(events(), 'invalid', 'A')).toHaveLength(1);
  });

  it('a run past its timeout records nothing, and the redelivery completes the task', async () => {
    // Started on its own: a kill aimed at another transient's D would kill a batch that also held this one's D.
    await start('overrun');
    const final = await finished('overrun', 90_000);
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    expect(final.registers.D).toMatchObject({ status: 'processed', attempt: 2 });
    expect(runsOf(events(), 'overrun', 'D')).toHaveLength(2);
  }, 120_000);

  it('a worker that dies between its claim and its completion write is taken over once its lease runs out', async () => {
    // Started on its own, once the others are done: the kill takes the whole invocation, with every other D of its batch.
    await start('crash');
    const final = await finished('crash', 90_000);
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    expect(final.registers.D).toMatchObject({ status: 'processed', attempt: 2 });
    expect(faultsOf(events(), Fault.Kill).filter((event) => event.type === 'fault' && event.key.includes('crash/D'))).toHaveLength(1);
  }, 120_000);

  it('a dispatcher that dies after sending, before deleting its markers, sends them again and the task runs once', async () => {
    const final = await finished('dispatch');
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    expect(faultsOf(events(), Fault.Kill).filter((event) => event.type === 'fault' && event.key.includes('dispatch/A')).length).toBeGreaterThanOrEqual(1);
    expect(runsOf(events(), 'dispatch', 'A')).toHaveLength(1);
  });

  it('entries SQS refuses become ready markers, which the dispatcher sends', async () => {
    const final = await finished('partial');
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    expect(faultsOf(events(), Fault.PartialSendFailure).length).toBeGreaterThanOrEqual(3);
  });

  it('a message delivered twice runs once', async () => {
    const final = await finished('duplicate');
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    for (const task of ['A', 'B', 'C', 'D']) expect(runsOf(events(), 'duplicate', task)).toHaveLength(1);
  });

  it('late and out-of-order messages still complete the workflow', async () => {
    const final = await finished('delayed');
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    // B, C and D are sent by workers; A's first message by the ingest, which injects nothing.
    expect(faultsOf(events(), Fault.DelayedSend).filter((event) => event.type === 'fault' && event.key.includes('"transient":"delayed"')).length).toBeGreaterThanOrEqual(3);
  });

  it('throttled DynamoDB calls are retried by the SDK', async () => {
    const final = await finished('throttled');
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    const throttled = faultsOf(events(), Fault.Throttle);
    expect(throttled.length).toBeGreaterThanOrEqual(4);
    expect(new Set(throttled.map((event) => event.type === 'fault' && event.detail))).toEqual(new Set(['ProvisionedThroughputExceededException', 'ThrottlingException']));
  });

  it('calls whose response is lost are retried, and a claim that landed is recognised as the worker\'s own', async () => {
    const final = await finished('lost');
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    for (const task of ['A', 'B', 'C', 'D']) expect(final.registers[task]).toMatchObject({ status: 'processed', attempt: 1 });
  });



  it('poison messages go to the dead-letter queue at once, with the reason, without failing the rest of their batch', async () => {
    // Prepare: one good message and one of each kind of poison in a single batch.
    await ingestTransients(runtime.engine, [sampleTransient('beside-poison')]);
    const good = sqsRecord({ transient: 'beside-poison', task: 'A', readyAt: Date.now() }, { messageId: 'aaaa0000-0000-4000-8000-00000000000a' });
    const queueA = runtime.resources.queues.find((queue) => queue.task === 'A');
    const poison = poisonMessages('beside-poison', 'A', Date.now()).map(({ body }, index) =>
      sqsRecord(body, { messageId: `bbbb000${index}-0000-4000-8000-000000000000`, eventSourceARN: queueA?.arn ?? '' }),
    );

    names.push('beside-poison');

    // Act
    const response = (await runtime.handlers.transientWorker(
      { Records: [{ ...good, eventSourceARN: queueA?.arn ?? '' }, ...poison] },
      lambdaContext('a', 60_000),
    )) as SQSBatchResponse;
    const fromPoison = (letter: { body: string }) => poison.some((record) => letter.body.startsWith(record.body.slice(0, 200)));
    const letters = await waitFor('a dead-letter record of each', async () => {
      const found = await deadLettersOf(runtime.engine, 'A');
      return found.filter(fromPoison).length === poison.length && found;
    });

    // Assess: nothing failed, the good message ran, each poison message was recorded once with its reason.
    expect(response.batchItemFailures).toEqual([]);
    expect((await record('beside-poison'))?.registers.A?.status).toBe('processed');
    const reasons = letters.filter(fromPoison).map((letter) => letter.reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/not JSON/),
        expect.stringMatching(/not a task message/),
        // The queue it came from decides whose it is, not what the body says.
        expect.stringMatching(/nothing recorded: the message names task "No such runner" but came from the dead-letter queue of "A"/),
        expect.stringMatching(/unknown transient/),
        expect.stringMatching(/name is longer than 120 characters/),
        expect.stringMatching(/message body is 200\d\d\d characters long/),
      ]),
    );
    expect(letters.filter(fromPoison).map((letter) => letter.receiveCount)).toEqual(poison.map(() => 1));
    // What is kept of a body is bounded.
    expect(Math.max(...letters.filter(fromPoison).map((letter) => letter.body.length))).toBeLessThan(2_200);
  });

  it('keeps every invariant over all the scenarios', async () => {
    const settled = await waitUntilSettled(runtime, names, { timeoutMs: 90_000 });
    // Late runs of overrun faults may still append to the journal for a moment.
    await sleep(2_000);
    const { violations } = await checkRun(runtime, names);
    expect(settled).toBe(true);
    expect(violations).toEqual([]);
  }, 120_000);
});
