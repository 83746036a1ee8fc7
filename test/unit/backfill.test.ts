/**
 * Backfills and lanes on the in-memory store: which registers a backfill resets, its pacing, its cancel, a task
 * added to the registry reaching existing transients, and the dispatcher sending live work before backfill work.
 * Messages are delivered by hand (a pump), so nothing here depends on time.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Status } from '../../lib/domain/catalog';
import { BackfillStatus } from '../../lib/domain/backfill';
import { Lane } from '../../lib/domain/lanes';
import { priorityKey } from '../../lib/domain/ordering';
import { generationOf } from '../../lib/domain/workflow';
import { cancelBackfill, createBackfill, readBackfill, runBackfill } from '../../lib/engine/backfill';
import { dispatchReady } from '../../lib/engine/dispatch';
import { resetForBackfill } from '../../lib/engine/operations';
import type { Engine } from '../../lib/engine/engine';
import { ingestTransients } from '../../lib/engine/ingest';
import type { TaskStore } from '../../lib/engine/store';
import { processDelivery } from '../../lib/engine/worker';
import type { TaskMessage } from '../../lib/domain/messages';
import type { AnyRunner } from '../../lib/runner';
import { engineInMemory, recordingQueues } from '../helpers/engine';
import { runner, sampleTransient } from '../helpers/factories';
import { fixturesWithTasks } from '../helpers/local-stack';

const logger = new Logger({ logLevel: 'SILENT' });
/** A → B → C, and D after A: a backfill of B resets B and C, never A or D. */
const chain = (): AnyRunner[] => [runner('A', {}), runner('B', { A: 'processed' }), runner('C', { B: 'processed' }), runner('D', { A: 'processed' })];
const names = ['s1', 's2', 's3', 's4'];

let messages = 0;
const build = (runners: readonly AnyRunner[], store?: TaskStore) => {
  const tasks = runners.map((each) => each.taskName);
  const { queues, sent } = recordingQueues(tasks);
  const engine = engineInMemory(runners, fixturesWithTasks(tasks), { queues, ...(store ? { store } : {}) });
  /** Delivers everything sent so far, and what the dispatcher sends for every task, until nothing is left. */
  const pump = async () => {
    for (let round = 0; round < 100; round++) {
      for (const task of tasks) await dispatchReady(engine, task, { owner: 'pump', deadline: Date.now() + 60_000 });
      const batch = sent.splice(0);
      if (batch.length === 0) return;
      for (const message of batch) await deliver(engine, message);
    }
  };
  return { engine, sent, pump };
};

const deliver = (engine: Engine, message: TaskMessage) =>
  processDelivery(
    engine,
    { messageId: `m${String(messages++).padStart(7, '0')}-0000-4000-8000-000000000000`, receiptHandle: 'h', body: JSON.stringify(message), receiveCount: 1 },
    { deadline: Date.now() + 60_000, logger },
  );

const generations = async (engine: Engine, name: string) => {
  const record = await engine.store.transients.get(name);
  return Object.fromEntries(['A', 'B', 'C', 'D'].map((task) => [task, generationOf(record?.registers ?? {}, task)]));
};

/** Runs the backfill while the pump delivers its work, until it has ended. */
const runWithPump = async (engine: Engine, pump: () => Promise<void>, id: string) => {
  const controller = new AbortController();
  const running = runBackfill(engine, id, { owner: 'test', pollMs: 1, signal: controller.signal });
  let ended = false;
  void running.finally(() => (ended = true));
  while (!ended) {
    await pump();
    await yieldToLoop();
  }
  return running;
};

describe('Backfill', () => {
  it('resets exactly the selected transients\' chosen task and the tasks after it, once each, and runs them to their end', async () => {
    // Prepare: four transients, every task processed
    const { engine, pump } = build(chain());
    await ingestTransients(engine, names.map((name, day) => sampleTransient(name, { publicTimestamp: `2010-01-1${day}T00:00:00.000Z` })));
    await pump();
    const before = await Promise.all(names.map((name) => generations(engine, name)));
    expect(before.every((each) => Object.values(each).every((g) => g === 0))).toBe(true);

    // Act: backfill B over s1 and s3
    const created = await createBackfill(engine, { task: 'B', selection: { kind: 'names', names: ['s1', 's3'] } });
    const ended = await runWithPump(engine, pump, created.id);

    // Assess: B and C of s1 and s3 one generation on, nothing else touched; all processed again; counted
    expect(created.state.tasks).toEqual(['B', 'C']);
    expect(await Promise.all(names.map((name) => generations(engine, name)))).toEqual([
      { A: 0, B: 1, C: 1, D: 0 },
      { A: 0, B: 0, C: 0, D: 0 },
      { A: 0, B: 1, C: 1, D: 0 },
      { A: 0, B: 0, C: 0, D: 0 },
    ]);
    for (const record of await engine.store.transients.getMany(names)) {
      expect(Object.values(record.registers).map((register) => register?.status)).toEqual(['processed', 'processed', 'processed', 'processed']);
    }
    expect(ended.state.status).toBe(BackfillStatus.Finished);
    expect(ended.state.counts).toEqual({ selected: 2, reset: 2, done: 2, failed: 0, missing: 0 });
  });

  it.each([
    ['a public-timestamp range', { kind: 'time', field: 'public', from: '2010-01-11T00:00:00.000Z', to: '2010-01-13T00:00:00.000Z' }, ['s2', 's3']],
    ['a task status', { kind: 'task-status', task: 'B', status: 'failed' }, ['s2']],
    ['every transient', { kind: 'all' }, names],
  ] as const)('selects by %s', async (_what, selection, expected) => {
    // Prepare: s2's B fails the first time only
    let failB = true;
    const runners = [
      runner('A', {}),
      runner('B', { A: 'processed' }, {
        process: (transient) => {
          if (transient.name === 's2' && failB) {
            failB = false;
            return 'failed';
          }
          return 'processed';
        },
      }),
      runner('C', { B: 'processed' }),
      runner('D', { A: 'processed' }),
    ];
    const { engine, pump } = build(runners);
    await ingestTransients(engine, names.map((name, day) => sampleTransient(name, { publicTimestamp: `2010-01-1${day}T00:00:00.000Z` })));
    await pump();

    // Act
    const created = await createBackfill(engine, { task: 'B', selection: selection as never });
    await runWithPump(engine, pump, created.id);

    // Assess: exactly the expected transients' B moved on one generation
    const moved = (await Promise.all(names.map(async (name) => [name, (await generations(engine, name)).B] as const))).filter(([, g]) => (g ?? 0) > 0);
    expect(moved).toEqual(expected.map((name) => [name, 1]));
    expect(created.state.total).toBe(expected.length);
  });

  it('is paced: no more transients between their reset and their end than its window', async () => {
    const { engine, pump } = build(chain().map((each) => Object.assign(each, { maxConcurrency: 4 })));
    await ingestTransients(engine, names.map((name) => sampleTransient(name)));
    await pump();
    const created = await createBackfill(engine, { task: 'A', selection: { kind: 'all' }, share: 0.5 });
    expect(created.state.window).toBe(2);
    let widest = 0;
    const controller = new AbortController();
    const running = runBackfill(engine, created.id, {
      owner: 'test',
      pollMs: 1,
      signal: controller.signal,
      onProgress: (backfill) => (widest = Math.max(widest, backfill.state.active.length + backfill.state.pending.length)),
    });
    let ended = false;
    void running.finally(() => (ended = true));
    while (!ended) {
      await pump();
      await yieldToLoop();
    }
    expect((await running).state.counts.done).toBe(4);
    expect(widest).toBe(2);
  });

  it('stops when cancelled: nothing more is reset, and running it again does nothing', async () => {
    // Prepare: a backfill of one transient at a time, whose first transient is reset and never delivered
    const { engine, pump } = build(chain());
    await ingestTransients(engine, names.map((name) => sampleTransient(name)));
    await pump();
    const created = await createBackfill(engine, { task: 'A', selection: { kind: 'names', names }, share: 0.1 });
    const controller = new AbortController();
    const running = runBackfill(engine, created.id, {
      owner: 'test',
      pollMs: 1,
      signal: controller.signal,
      onProgress: (backfill) => {
        if (backfill.state.active.length > 0) controller.abort();
      },
    });
    await running;

    // Act
    const cancelled = await cancelBackfill(engine, created.id);
    const again = await runBackfill(engine, created.id, { owner: 'test', pollMs: 1 });

    // Assess: only s1 was reset; the backfill says cancelled with its counts
    expect(cancelled.state.status).toBe(BackfillStatus.Cancelled);
    expect(again.state.status).toBe(BackfillStatus.Cancelled);
    expect(await Promise.all(names.map(async (name) => (await generations(engine, name)).A))).toEqual([1, 0, 0, 0]);
    expect((await readBackfill(engine, created.id))?.state.counts.reset).toBe(1);
  });

  it('a driver killed between its resets and the write that records them: the next one resets none of them again', async () => {
    // Prepare: a store whose first write clearing a batch never happens (the process died just before it)
    const { engine, pump } = build(chain());
    await ingestTransients(engine, names.map((name) => sampleTransient(name)));
    await pump();
    const { backfills } = engine.store;
    let killed = false;
    const dying: Engine = {
      ...engine,
      store: {
        ...engine.store,
        backfills: {
          ...backfills,
          save: async (id, state, expected) => {
            if (!killed && Array.isArray(state.pending) && state.pending.length === 0 && ((await backfills.get(id))?.state.pending as unknown[]).length > 0) {
              killed = true;
              throw new Error('killed');
            }
            return backfills.save(id, state, expected);
          },
        },
      },
    };
    const created = await createBackfill(engine, { task: 'B', selection: { kind: 'all' } });
    await expect(runBackfill(dying, created.id, { owner: 'first', pollMs: 1 })).rejects.toThrow('killed');
    await engine.store.locks.release(`backfill#${created.id}`, 'first');

    // Act: another driver continues it
    const ended = await runWithPump(engine, pump, created.id);

    // Assess: every transient's B and C reset exactly once, all finished
    expect(killed).toBe(true);
    expect(await Promise.all(names.map(async (name) => (await generations(engine, name)).B))).toEqual([1, 1, 1, 1]);
    expect(ended.state.counts).toMatchObject({ selected: 4, reset: 4, done: 4 });
  });

  it("after a runner's version changes, a stale backfill re-runs exactly the stale results: that task and those after it that used it, on the transients not yet re-run", async () => {
    // Prepare: every task processed at version 1; then B is at version 2 and s1 alone has been re-run since
    const versioned = (b: string) => chain().map((each) => Object.assign(each, { version: each.taskName === 'B' ? b : '1' }));
    const first = build(versioned('1'));
    await ingestTransients(first.engine, names.map((name, day) => sampleTransient(name, { publicTimestamp: `2010-01-1${day}T00:00:00.000Z` })));
    await first.pump();
    const { engine, pump } = build(versioned('2'), first.engine.store);
    const rerun = await createBackfill(engine, { task: 'B', selection: { kind: 'names', names: ['s1'] } });
    await runWithPump(engine, pump, rerun.id);
    const before = await Promise.all(names.map((name) => generations(engine, name)));

    // Act
    const stale = await createBackfill(engine, { task: 'B', selection: { kind: 'stale' } });
    const ended = await runWithPump(engine, pump, stale.id);

    // Assess: s2 to s4's B and C once more, nothing else; every result current again
    const after = await Promise.all(names.map((name) => generations(engine, name)));
    expect(after).toEqual(before.map((was, index) => (index === 0 ? was : { ...was, B: (was.B ?? 0) + 1, C: (was.C ?? 0) + 1 })));
    expect(ended.state.counts).toMatchObject({ selected: 3, reset: 3, done: 3 });
    const records = await Promise.all(names.map((name) => engine.store.transients.get(name)));
    expect(records.map((record) => record?.registers.B)).toEqual(names.map(() => expect.objectContaining({ status: Status.Processed, version: '2' })));
    expect(await createBackfill(engine, { task: 'B', selection: { kind: 'stale' } }).then((next) => next.state.counts.selected)).toBe(0);
  });

  it('brings a task added to the registry to the transients already there, with no migration', async () => {
    // Prepare: transients finished under A and B alone
    const before = build([runner('A', {}), runner('B', { A: 'processed' })]);
    await ingestTransients(before.engine, names.map((name) => sampleTransient(name)));
    await before.pump();

    // Act: the registry gains N (after A); a backfill of N over every transient
    const after = build([runner('A', {}), runner('B', { A: 'processed' }), runner('N', { A: 'processed' })], before.engine.store);
    const created = await createBackfill(after.engine, { task: 'N', selection: { kind: 'all' } });
    await runWithPump(after.engine, after.pump, created.id);

    // Assess: N processed for every transient; A and B not run again
    for (const record of await after.engine.store.transients.getMany(names)) {
      expect(record.registers.N?.status).toBe(Status.Processed);
      expect(generationOf(record.registers, 'A') + generationOf(record.registers, 'B')).toBe(0);
    }
  });
});

describe('Lanes', () => {
  it("work a backfill makes ready, and its successors' work, waits in the backfill lane instead of going to the queue", async () => {
    // Prepare
    const { engine, sent, pump } = build(chain());
    await ingestTransients(engine, [sampleTransient('s1')]);
    await pump();

    // Act: a backfill's reset of B and C; then B's run
    await resetForBackfill(engine, 's1', ['B', 'C']);
    const afterReset = { sent: sent.splice(0), markers: (await engine.store.readiness.page('B', 0, 10)).items };
    await dispatchReady(engine, 'B', { owner: 'test', deadline: Date.now() + 60_000 });
    for (const message of sent.splice(0)) await deliver(engine, message);
    const afterB = { sent: sent.splice(0), markers: (await engine.store.readiness.page('C', 0, 10)).items };

    // Assess
    expect(afterReset.sent).toEqual([]);
    expect(afterReset.markers.map((marker) => [marker.name, marker.lane])).toEqual([['s1', Lane.Backfill]]);
    expect(afterB.sent).toEqual([]);
    expect(afterB.markers.map((marker) => [marker.name, marker.lane])).toEqual([['s1', Lane.Backfill]]);
  });

  it('the dispatcher sends live work before backfill work, oldest first within each, and only its concurrency of backfill per run', async () => {
    // Prepare: A ready for six transients: the three oldest by public timestamp in the backfill lane
    const { engine, sent } = build(chain().map((each) => Object.assign(each, { maxConcurrency: 2, readyShards: 1 })));
    const transients = ['old1', 'old2', 'old3', 'new1', 'new2', 'new3'].map((name, day) => sampleTransient(name, { publicTimestamp: `2010-01-1${day}T00:00:00.000Z` }));
    await engine.store.readiness.put(
      transients.map((transient, index) => ({
        task: 'A',
        shard: 0,
        priority: priorityKey(transient),
        name: transient.name,
        readyAt: Date.now(),
        generation: 0,
        id: `m${index}`,
        ...(index < 3 ? { lane: Lane.Backfill } : {}),
      })),
    );

    // Act
    const result = await dispatchReady(engine, 'A', { owner: 'test', deadline: Date.now() + 60_000 });

    // Assess: the live three first (oldest first), then two backfill (the runner's concurrency); one waits
    expect(sent.map((message) => message.transient)).toEqual(['new1', 'new2', 'new3', 'old1', 'old2']);
    expect(result.backfill).toBe(2);
    expect((await engine.store.readiness.page('A', 0, 100)).items.map((marker) => marker.name)).toEqual(['old3']);
  });

  it('a backfill marker that has waited past the aging time counts as live', async () => {
    const { engine, sent } = build(chain().map((each) => Object.assign(each, { maxConcurrency: 2, readyShards: 1 })));
    const old = sampleTransient('old', { publicTimestamp: '2010-01-01T00:00:00.000Z' });
    const fresh = sampleTransient('fresh', { publicTimestamp: '2020-01-01T00:00:00.000Z' });
    await engine.store.readiness.put([
      { task: 'A', shard: 0, priority: priorityKey(fresh), name: 'fresh', readyAt: Date.now(), generation: 0, id: 'l' },
      { task: 'A', shard: 0, priority: priorityKey(old), name: 'old', readyAt: Date.now() - 60 * 60_000, generation: 0, id: 'b', lane: Lane.Backfill },
    ]);
    await dispatchReady(engine, 'A', { owner: 'test', deadline: Date.now() + 60_000, backfillPerRun: 0 });
    // Aged, it is ordered with the live work by Blast's rule: older, it goes first.
    expect(sent.map((message) => message.transient)).toEqual(['old', 'fresh']);
  });
});
