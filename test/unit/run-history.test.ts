/**
 * Run history on the in-memory store (held to the DynamoDB adapter's rules by the conformance suite): one record per
 * attempt, written once when it ends — by its own settle, or, for an attempt that never settled, by whatever took its
 * claim over (the next delivery, the dead-letter handler, a reset) — and never two for one attempt.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { Status } from '../../lib/domain/catalog';
import { MAX_CLOCK_SKEW_MS } from '../../lib/domain/time';
import { recordDeadLetter } from '../../lib/engine/dead-letters';
import type { Engine } from '../../lib/engine/engine';
import { historyOf } from '../../lib/engine/history';
import { ingestTransients } from '../../lib/engine/ingest';
import { reprocess } from '../../lib/engine/operations';
import type { RunRecord, TaskStore } from '../../lib/engine/store';
import { type Delivery, RetryLaterError, processDelivery } from '../../lib/engine/worker';
import { engineInMemory, recordingQueues } from '../helpers/engine';
import { runner, sampleTransient } from '../helpers/factories';
import { fixturesWithTasks } from '../helpers/local-stack';

const logger = new Logger({ logLevel: 'SILENT' });
const deliver = (messageId: string, receiveCount = 1, g = 0): Delivery => ({
  messageId,
  receiptHandle: `h-${messageId}-${receiveCount}`,
  body: JSON.stringify({ readyAt: 1, transient: 'sn', task: 'A', ...(g ? { g } : {}) }),
  receiveCount,
});
/** Far ahead of the test's clock (which starts at 1,000,000 ms), within a timer's range. */
const DEADLINE = 2_000_000_000;
const M1 = 'm0000001-0000-4000-8000-000000000000';
const M2 = 'm0000002-0000-4000-8000-000000000000';

/** A runner A whose runs wait for the test to let them end (a run never let go stands for a killed worker). */
const held = () => {
  const gates: { release: (status: string) => void }[] = [];
  const a = runner('A', {}, { process: () => new Promise<string>((release) => gates.push({ release })) });
  return { a, gates };
};

/** An engine on a clock the test moves, counting the history writes. */
const engineWith = (a: ReturnType<typeof runner>) => {
  let now = 1_000_000;
  const writes: RunRecord[] = [];
  const base = engineInMemory([a], fixturesWithTasks(['A']), { queues: recordingQueues(['A']).queues, clock: () => now });
  const history: TaskStore['history'] = {
    record: (run, options) => {
      writes.push(run);
      return base.store.history.record(run, options);
    },
    list: (...args) => base.store.history.list(...args),
  };
  const engine: Engine = { ...base, store: { ...base.store, history } };
  return { engine, writes, advance: (ms: number) => (now += ms), now: () => now };
};

/** The attempts recorded, oldest first, with what tells them apart. */
const attempts = async (engine: Engine) =>
  (await historyOf(engine, 'sn', 'A')).reverse().map((run) => ({ run: run.run, attempt: run.attempt, status: run.status, lost: run.lost ?? false, recorded: run.recorded ?? true }));

const leaseOf = (a: ReturnType<typeof runner>) => a.timeoutSeconds * 1000 + MAX_CLOCK_SKEW_MS;
const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('Run history: one record per attempt', () => {
  it('a clean run writes its record once, when it ends', async () => {
    // Prepare
    const { engine, writes } = engineWith(runner('A', {}));
    await ingestTransients(engine, [sampleTransient('sn')]);

    // Act
    await processDelivery(engine, deliver(M1), { deadline: DEADLINE, logger });

    // Assess: one write, carrying the whole attempt
    expect(writes).toHaveLength(1);
    const [run] = await historyOf(engine, 'sn');
    expect(run).toMatchObject({ task: 'A', attempt: 1, status: Status.Processed, version: expect.any(String), fingerprint: expect.any(String) });
    expect(run?.endedAt).toBe((run?.startedAt ?? 0) + (run?.durationMs ?? -1));
  });

  it('a killed attempt is recorded by the delivery that takes its claim over, as timed out; the next by its own settle', async () => {
    // Prepare: the first delivery claims and its worker dies (its run never ends)
    const { a, gates } = held();
    const { engine, advance } = engineWith(a);
    await ingestTransients(engine, [sampleTransient('sn')]);
    void processDelivery(engine, deliver(M1), { deadline: DEADLINE, logger }).catch(() => undefined);
    await settled();
    const killed = (await engine.store.transients.get('sn'))?.registers.A;

    // Act: past its lease, the redelivery takes over and finishes
    advance(leaseOf(a) + 1);
    const second = processDelivery(engine, deliver(M1, 2), { deadline: DEADLINE, logger });
    await settled();
    gates[1]?.release(Status.Processed);
    await second;

    // Assess: two attempts, one record each; the killed one with its start and token, timed out
    expect(await attempts(engine)).toEqual([
      { run: killed?.claim, attempt: 1, status: Status.TimeLimitExceeded, lost: true, recorded: false },
      { run: expect.not.stringMatching(killed?.claim ?? ''), attempt: 2, status: Status.Processed, lost: false, recorded: true },
    ]);
    expect((await historyOf(engine, 'sn', 'A')).at(-1)).toMatchObject({ startedAt: killed?.lastModified, version: expect.any(String) });
  });

  it('a run taken over that ends after all replaces the record written for it: still one record for it', async () => {
    // Prepare: the first run outlives its lease; the redelivery takes over and writes it as lost
    const { a, gates } = held();
    const { engine, advance } = engineWith(a);
    await ingestTransients(engine, [sampleTransient('sn')]);
    const first = processDelivery(engine, deliver(M1), { deadline: DEADLINE, logger });
    await settled();
    advance(leaseOf(a) + 1);
    const second = processDelivery(engine, deliver(M1, 2), { deadline: DEADLINE, logger });
    await settled();

    // Act: the first run ends late (its result is refused), then the second
    gates[0]?.release(Status.Processed);
    await first;
    gates[1]?.release(Status.Processed);
    await second;

    // Assess: the late run's own record (not recorded) replaced the lost one
    expect(await attempts(engine)).toEqual([
      { run: expect.any(String), attempt: 1, status: Status.Processed, lost: false, recorded: false },
      { run: expect.any(String), attempt: 2, status: Status.Processed, lost: false, recorded: true },
    ]);
  });

  it("a run killed on its last delivery is recorded by the dead-letter handler's time limit exceeded", async () => {
    // Prepare: the last delivery's worker dies
    const { a } = held();
    const { engine, advance } = engineWith(a);
    await ingestTransients(engine, [sampleTransient('sn')]);
    void processDelivery(engine, deliver(M1, a.maxReceiveCount), { deadline: DEADLINE, logger }).catch(() => undefined);
    await settled();

    // Act: the message reaches the dead-letter queue once its lease is over
    advance(leaseOf(a) + MAX_CLOCK_SKEW_MS + 1);
    await recordDeadLetter(engine, deliver(M1, 1), 'A');
    await recordDeadLetter(engine, deliver(M1, 2), 'A');

    // Assess: one record, of the attempt the handler gave up
    expect(await attempts(engine)).toEqual([{ run: expect.any(String), attempt: a.maxReceiveCount, status: Status.TimeLimitExceeded, lost: true, recorded: false }]);
  });

  it('a reset takes the claim of a run that was killed: its attempt is recorded once, and the run after it', async () => {
    // Prepare: a run whose worker died, before its lease ended
    const { a, gates } = held();
    const { engine } = engineWith(a);
    await ingestTransients(engine, [sampleTransient('sn')]);
    void processDelivery(engine, deliver(M1), { deadline: DEADLINE, logger }).catch(() => undefined);
    await settled();

    // Act: a reprocess, and the run it sends
    await reprocess(engine, 'sn');
    const next = processDelivery(engine, deliver(M2, 1, 1), { deadline: DEADLINE, logger });
    await settled();
    gates[1]?.release(Status.Processed);
    await next;

    // Assess
    expect(await attempts(engine)).toEqual([
      { run: expect.any(String), attempt: 1, status: Status.Processing, lost: true, recorded: false },
      { run: expect.any(String), attempt: 1, status: Status.Processed, lost: false, recorded: true },
    ]);
  });

  it('a run whose worker died after its settle, before its record, is recorded by its redelivery, once', async () => {
    // Prepare: the settle lands, the history write does not (the worker dies in between)
    const { engine, writes } = engineWith(runner('A', {}));
    await ingestTransients(engine, [sampleTransient('sn')]);
    const record = engine.store.history.record;
    let dropped = 0;
    const dying: Engine = { ...engine, store: { ...engine.store, history: { ...engine.store.history, record: async () => void dropped++ } } };
    await processDelivery(dying, deliver(M1), { deadline: DEADLINE, logger });
    const register = (await engine.store.transients.get('sn'))?.registers.A;

    // Act: the message comes back, twice
    await processDelivery(engine, deliver(M1, 2), { deadline: DEADLINE, logger });
    await processDelivery(engine, deliver(M1, 3), { deadline: DEADLINE, logger });

    // Assess: one record, under the run's own start
    expect(dropped).toBe(1);
    expect(record).toBeDefined();
    expect(writes.length).toBeGreaterThanOrEqual(1);
    const runs = await historyOf(engine, 'sn', 'A');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ run: register?.claim, attempt: 1, status: Status.Processed, endedAt: register?.lastModified });
  });

  it('a last delivery that settled and died before its record is recorded by the dead-letter handler, once', async () => {
    // Prepare: the last delivery's settle lands, its history write does not (the worker dies in between)
    const a = runner('A', {});
    const { engine } = engineWith(a);
    await ingestTransients(engine, [sampleTransient('sn')]);
    const last = a.maxReceiveCount;
    const dying: Engine = { ...engine, store: { ...engine.store, history: { ...engine.store.history, record: async () => undefined } } };
    await processDelivery(dying, deliver(M1, last), { deadline: DEADLINE, logger });
    const register = (await engine.store.transients.get('sn'))?.registers.A;

    // Act: SQS moves the message to the dead-letter queue (the handler's reply lost once: delivered twice)
    await recordDeadLetter(engine, deliver(M1, 1), 'A');
    await recordDeadLetter(engine, deliver(M1, 2), 'A');

    // Assess: the run's one record, under its own start, as it settled
    expect(register).toMatchObject({ status: Status.Processed, attempt: last });
    expect(await attempts(engine)).toEqual([{ run: register?.claim, attempt: last, status: Status.Processed, lost: false, recorded: true }]);
  });

  it('a retry waiting is no lost attempt: the failed attempt and its retry are one record each', async () => {
    // Prepare
    let failures = 1;
    const { engine, writes, advance } = engineWith(
      runner('A', {}, {
        process: () => {
          if (failures-- > 0) throw new Error('transient failure');
          return Status.Processed;
        },
      }),
    );
    await ingestTransients(engine, [sampleTransient('sn')]);

    // Act
    await expect(processDelivery(engine, deliver(M1), { deadline: DEADLINE, logger })).rejects.toBeInstanceOf(RetryLaterError);
    advance(5_000);
    await processDelivery(engine, deliver(M1, 2), { deadline: DEADLINE, logger });

    // Assess
    expect(writes).toHaveLength(2);
    expect(await attempts(engine)).toEqual([
      { run: expect.any(String), attempt: 1, status: Status.NotProcessed, lost: false, recorded: true },
      { run: expect.any(String), attempt: 2, status: Status.Processed, lost: false, recorded: true },
    ]);
  });
});
