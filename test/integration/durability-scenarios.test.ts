/**
 * Issue 11: nothing lost, nothing run twice, under the faults AWS really makes. Each finding of the issue is a
 * named scenario, and so is each new fault kind: kills at any step (the whole invocation stops, no `finally`
 * runs, a write in flight may land later), true SQS duplicates (the identical batch handed to two invocations,
 * the same batch invoked again, visibility expiring mid-run), refused visibility changes, transaction
 * conflicts, throttle storms past the SDK's retry budget and per-host clock skew. They run at once in one local
 * pipeline; every look at it checks that each ready task is recorded somewhere, and the last test checks every
 * invariant, the counters included.
 */
import { mkdtempSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvocationKilledError, asInvocation } from '../../lib/chaos/invocation';
import { type JournalEvent, readJournal } from '../../lib/chaos/journal';
import { Fault, type FaultPlanSpec } from '../../lib/chaos/plan';
import { ReadinessWatch, checkRun, waitUntilSettled } from '../../lib/local/chaos-run';
import { MAX_CLOCK_SKEW_MS } from '../../lib/domain/time';
import { ProcessingStatus } from '../../lib/domain/workflow';
import { ingestTransients } from '../../lib/engine/ingest';
import { deadLettersOf, reprocess } from '../../lib/engine/operations';
import type { LocalRuntime } from '../../lib/local/runtime';
import { sampleTransient } from '../helpers/factories';
import { fixturesWithTasks, startTestRuntime, waitFor } from '../helpers/local-stack';

const { runners } = vi.hoisted(() => ({ runners: [] as import('../../lib/runner').AnyRunner[] }));

import { runner } from '../helpers/factories';

/** Some work, so that runs that wrongly overlap do overlap. */
const process = async () => {
  await new Promise((resolve) => setTimeout(resolve, 100));
  return 'processed';
};
// Short timeouts: a message whose run died comes back after max(6 × 2 s, 2 s + 3 × the tolerated skew) = 17 s.
const settings = { timeoutSeconds: 2, maxReceiveCount: 3 };
runners.push(
  runner('A', {}, { process, settings }),
  runner('B', { A: 'processed' }, { process, settings }),
  runner('C', { A: 'processed' }, { process, settings }),
  runner('D', { B: 'processed', C: 'processed' }, { process, settings }),
);

/** Each fault hits only the transients (or queue) named after it. */
const plan = (journal: string, prefix: string): FaultPlanSpec => ({
  seed: 11,
  journal,
  // The dead-letter handler's timeout too: its queues' visibility is then 12 s.
  timeoutSeconds: 2,
  // Every invocation, and the operator, on a clock of its own, up to the tolerated skew apart.
  clockSkewMs: MAX_CLOCK_SKEW_MS,
  faults: {
    [Fault.DuplicateInvocation]: { rate: 1, match: '^(f1-identical|counts-duplicated)/' },
    [Fault.RepeatedBatch]: { rate: 1, match: '^counts-duplicated/' },
    [Fault.RunnerThrows]: [
      { rate: 1, firstTries: 2, match: '^f2-final/A$' },
      { rate: 1, firstTries: 1, match: '^visibility-refused/C$' },
    ],
    [Fault.Kill]: [
      // Finding 2: the last delivery settles, then its process dies before it sends B and C.
      { rate: 1, fromTry: 3, match: '^f2-final/A$', step: '^after transients\\.settle$' },
      // Finding 3: the operator's reprocess dies right after its write.
      { rate: 1, match: '^f3-reset$', step: '^after transients\\.replace$' },
      // Finding 7: the last task's settle moves the transient to "completed"; the process dies before counting it.
      { rate: 1, firstTries: 1, match: '^counts-killed/D$', step: '^after transients\\.settle$' },
      // The settle is in flight when the process dies, and lands a moment later.
      { rate: 1, firstTries: 1, match: '^late-landing/B$', step: '^during transients\\.settle$' },
      // Finding 6: a dead letter the handler can never record (on D's dead-letter queue, where no other scenario's go).
      { rate: 1, match: '^dlq-loop/D$', step: '^before deadLetters\\.put$' },
    ],
    [Fault.VisibilityExpiry]: { rate: 1, firstTries: 1, match: '^visibility-expired/A$' },
    [Fault.VisibilityChangeFails]: { rate: 1, match: `^${prefix}-c$` },
    // Its ingest's first transaction, and the reprocess's (the third on the item).
    [Fault.TransactionConflict]: [
      { rate: 1, firstTries: 1, match: '^conflicted$' },
      { rate: 1, fromTry: 3, firstTries: 3, match: '^conflicted$' },
    ],
    [Fault.ThrottleStorm]: { rate: 1, firstTries: 1, match: '^storm$' },
    [Fault.LostResponse]: { rate: 1, firstTries: 1, match: '^COUNTS#' },
  },
});

const scenarios = ['f2-final', 'counts-duplicated', 'counts-killed', 'late-landing', 'visibility-expired', 'visibility-refused', 'storm'];

describe('Integration: durability scenarios (issue 11)', () => {
  let runtime: LocalRuntime;
  let journal: string;
  let watch: ReadinessWatch;
  /** Looks at the pipeline every half second while the scenarios run. */
  let watching = true;
  let looking: Promise<void> = Promise.resolve();
  const prefix = `dur${Date.now().toString(36)}`;
  const names = [...scenarios];
  const events = () => readJournal(journal);
  const record = (name: string) => runtime.engine.store.transients.get(name);
  const runsOf = (all: readonly JournalEvent[], name: string, task: string) =>
    all.filter((event) => event.type === 'run-start' && event.transient === name && event.task === task);
  /** Results recorded (a run whose invocation a fault killed, with a batch-mate's, records none and is run again). */
  const resultsOf = (all: readonly JournalEvent[], name: string, task: string) =>
    all.filter((event) => event.type === 'settle' && event.ok && event.transient === name && event.task === task && event.status !== 'not processed');
  /**
   * The journal once it holds a result of each task: a settle's line is written after its write returns, so a look at
   * the table can see the transient finished before its last task's line is there.
   */
  const journalWithResults = (name: string, tasks: readonly string[]) =>
    waitFor(
      `a result of each of ${tasks.join(', ')} of ${name} in the journal`,
      async () => {
        const all = events();
        return tasks.every((task) => resultsOf(all, name, task).length > 0) && all;
      },
      10_000,
    );
  const finished = (name: string, timeoutMs = 90_000) =>
    waitFor(
      `${name} to be completed or blocked`,
      async () => {
        const found = await record(name);
        return found && found.processingStatus !== ProcessingStatus.Processing && found;
      },
      timeoutMs,
    );
  const start = async (name: string) => {
    names.push(name);
    await ingestTransients(runtime.engine, [sampleTransient(name)], { announce: true });
  };

  beforeAll(async () => {
    journal = join(mkdtempSync(join(tmpdir(), 'durability-')), 'journal.jsonl');
    runtime = await startTestRuntime(runners, {
      fixturesDir: fixturesWithTasks(['A', 'B', 'C', 'D']),
      retryBaseSeconds: 1,
      tickMs: 1_000,
      prefix,
      chaos: plan(journal, prefix),
    });
    runtime.run();
    watch = new ReadinessWatch(runtime, journal);
    await ingestTransients(runtime.engine, scenarios.map((name) => sampleTransient(name)), { announce: true });
    // Finding 6's dead letter, from the start: its five tries a visibility timeout apart (12 s) take a minute, which
    // the other scenarios use. It names a transient that is not in the table, so that no worker or dispatcher touches
    // it, and goes to D's dead-letter queue, where no other scenario's dead letters go, so no batch-mate dies with it.
    const queueD = runtime.resources.queues.find((queue) => queue.task === 'D');
    if (!queueD) throw new Error('no queue for D');
    await runtime.sqs.send(new SendMessageCommand({ QueueUrl: queueD.deadLetterUrl, MessageBody: JSON.stringify({ transient: 'dlq-loop', task: 'D', readyAt: Date.now() }) }));
    looking = (async () => {
      while (watching) {
        await watch.look(names);
        await sleep(500);
      }
    })();
  });
  afterAll(async () => {
    watching = false;
    await looking.catch(() => undefined);
    await runtime?.stop();
  });

  it('finding 1: the identical SQS record handed to two invocations at once runs once, and its result stands', async () => {
    // Started once visibility-expired's A has gone by: a batch takes the fault its first message draws, so an A of
    // this transient batched behind that one met a visibility expiry instead of the duplicate (seen in CI).
    await finished('visibility-expired');
    await start('f1-identical');
    const final = await finished('f1-identical');
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    const all = await journalWithResults('f1-identical', ['A', 'B', 'C', 'D']);
    // Each task's result recorded once, and never undone (no run overlapped another: the last test checks).
    for (const task of ['A', 'B', 'C', 'D']) expect(resultsOf(all, 'f1-identical', task)).toHaveLength(1);
    // Every task's message was handed to two invocations.
    const duplicated = all.flatMap((event) => {
      if (event.type !== 'fault' || event.fault !== Fault.DuplicateInvocation) return [];
      const message = JSON.parse(event.key.slice(event.key.indexOf(' ') + 1)) as { transient: string; task: string };
      return message.transient === 'f1-identical' ? [message.task] : [];
    });
    expect(new Set(duplicated)).toEqual(new Set(['A', 'B', 'C', 'D']));
  });

  it('finding 2: a last delivery that settles and dies before sending on leaves its successors recorded; the dead-letter handler sends them', async () => {
    const final = await finished('f2-final');
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    expect(final.registers.A).toMatchObject({ status: 'processed', attempt: 3 });
    const letters = await deadLettersOf(runtime.engine, 'A');
    expect(letters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'f2-final', reason: 'nothing recorded: the task was already "processed"' })]));
  }, 120_000);

  it('finding 3: a reprocess whose process dies right after its write loses nothing: the write recorded what it made ready', async () => {
    await start('f3-reset');
    await finished('f3-reset');

    // Act: the operator's reprocess, as the CLI runs it on its own machine, dies after its write
    const killed = await asInvocation('operator', () => reprocess(runtime.engine, 'f3-reset')).catch((error: unknown) => error);
    const final = await finished('f3-reset');

    // Assess
    expect(killed).toBeInstanceOf(InvocationKilledError);
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    expect(runsOf(events(), 'f3-reset', 'A')).toHaveLength(2);
  }, 60_000);

  it('a transaction cancelled by a conflicting one is read again and retried', async () => {
    await start('conflicted');
    await finished('conflicted');

    const result = await reprocess(runtime.engine, 'conflicted');
    const final = await finished('conflicted');

    expect(result?.reset).toHaveLength(4);
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    expect(events().filter((event) => event.type === 'fault' && event.fault === Fault.TransactionConflict && event.key.includes('T#conflicted'))).not.toEqual([]);
  }, 60_000);

  it('finding 6: a dead letter the handler can never record goes to the failures queue after a few tries, instead of looping', async () => {
    // Prepare: a message SQS moved to D's dead-letter queue, sent at the start (beforeAll)

    // Act: the handler dies before its record every time; the dead-letter queue's redrive moves the message on
    const parked = await waitFor(
      'the dead letter to reach the failures queue',
      async () => {
        const { Messages = [] } = await runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: runtime.resources.deadLetterFailuresUrl, WaitTimeSeconds: 1 }));
        return Messages[0];
      },
      120_000,
    );
    // An operator takes it from there (here: removes it, so that the run's queues drain).
    await runtime.sqs.send(new DeleteMessageCommand({ QueueUrl: runtime.resources.deadLetterFailuresUrl, ReceiptHandle: parked.ReceiptHandle }));

    // Assess: tried maxReceiveCount times, then left alone
    const kills = events().filter((event) => event.type === 'fault' && event.fault === Fault.Kill && event.key.includes('deadLetters.put dlq-loop/D'));
    expect(kills).toHaveLength(5);
    expect(JSON.parse(parked.Body ?? '')).toMatchObject({ transient: 'dlq-loop', task: 'D' });
    expect(await record('dlq-loop')).toBeUndefined();
  }, 150_000);

  it('finding 7: duplicates count every move once; a process killed between a status write and its counter update leaves a drift the recount repairs', async () => {
    const [duplicated, killed] = [await finished('counts-duplicated'), await finished('counts-killed')];
    expect([duplicated.processingStatus, killed.processingStatus]).toEqual([ProcessingStatus.Completed, ProcessingStatus.Completed]);
    const all = await journalWithResults('counts-duplicated', ['A', 'B', 'C', 'D']);
    for (const task of ['A', 'B', 'C', 'D']) expect(resultsOf(all, 'counts-duplicated', task)).toHaveLength(1);
    // The counters themselves are checked against the registers by the last test.
  }, 120_000);

  it('a settle in flight when its process died lands late, and the redelivery carries the workflow on', async () => {
    const final = await finished('late-landing');
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    expect(resultsOf(events(), 'late-landing', 'B')).toHaveLength(1);
  }, 120_000);

  it('a message delivered again while its run goes on (visibility expired) does not run twice', async () => {
    const final = await finished('visibility-expired');
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    expect(resultsOf(events(), 'visibility-expired', 'A')).toHaveLength(1);
  }, 120_000);

  it('a retry whose ChangeMessageVisibility is refused (an expired receipt) comes back after the visibility timeout and succeeds', async () => {
    const final = await finished('visibility-refused');
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    expect(final.registers.C).toMatchObject({ status: 'processed', attempt: 2 });
    expect(events().filter((event) => event.type === 'fault' && event.fault === Fault.VisibilityChangeFails)).not.toEqual([]);
  }, 120_000);

  it('a call throttled past the SDK retry budget fails its delivery, which SQS brings back', async () => {
    const final = await finished('storm');
    expect(final.processingStatus).toBe(ProcessingStatus.Completed);
    expect(events().filter((event) => event.type === 'fault' && event.fault === Fault.ThrottleStorm)).not.toEqual([]);
  }, 120_000);

  it('keeps every invariant: no run twice, no stale result, readiness recorded at every look, counters true', async () => {
    const settled = await waitUntilSettled(runtime, names, { timeoutMs: 120_000 });
    watching = false;
    await looking;
    const { violations, looks } = await checkRun(runtime, names, watch);
    expect(settled).toBe(true);
    expect(looks).toBeGreaterThan(10);
    expect(violations).toEqual([]);
  }, 180_000);
});
