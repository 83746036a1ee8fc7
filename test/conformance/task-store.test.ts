/**
 * The storage port's conformance suite: every rule the engine relies on, run against both implementations —
 * the DynamoDB adapter on DynamoDB Local and the in-memory store. A rule that holds in one and not the other is a
 * bug in one of them; the engine's own tests can then use the in-memory store.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { documentClient } from '../../lib/bootstrap/create-engine';
import { Status } from '../../lib/domain/catalog';
import { CountBucket } from '../../lib/domain/counts';
import { Lane } from '../../lib/domain/lanes';
import { priorityKey, shardOf } from '../../lib/domain/ordering';
import { toTaskSpec } from '../../lib/domain/validation';
import { type Register, freshRegister } from '../../lib/domain/workflow';
import { COUNTER_SHARDS, type ReadyMarker, type RunRecord, STATUS_INDEX_SHARDS, type TaskStore, type TransientRecord } from '../../lib/engine/store';
import { localClientConfig } from '../../lib/local/services';
import { dynamoTaskStore } from '../../lib/store/dynamodb';
import { createTableInput } from '../../lib/store/dynamodb/table';
import { memoryTaskStore } from '../../lib/store/memory';
import { runner, sampleTransient } from '../helpers/factories';

let tables = 0;
const implementations: readonly (readonly [string, () => Promise<TaskStore>])[] = [
  ['in memory', async () => memoryTaskStore()],
  [
    'on DynamoDB Local',
    async () => {
      const dynamo = new DynamoDBClient(localClientConfig(inject('dynamodbEndpoint')));
      const tableName = `c${process.pid}-${Date.now().toString(36)}-${tables++}`;
      await dynamo.send(new CreateTableCommand(createTableInput(tableName)));
      return dynamoTaskStore(documentClient(dynamo), tableName);
    },
  ],
];

const specA = toTaskSpec(runner('A', {}));
const specB = toTaskSpec(runner('B', { A: 'processed', C: 'not processed' }));
const processing = (claim: string, leaseUntil: number, extra: Partial<Register> = {}): Register => ({ status: Status.Processing, claim, leaseUntil, lastModified: 1, attempt: 1, ...extra });
const marker = (name: string, task = 'B', overrides: Partial<ReadyMarker> = {}): ReadyMarker => ({
  task,
  shard: 0,
  priority: priorityKey(sampleTransient(name)),
  name,
  readyAt: 1,
  generation: 0,
  id: `id-${name}`,
  ...overrides,
});

describe.each(implementations)('Conformance: the task store %s', (_name, open) => {
  /** A store holding transient `sn` (registers as given, waiting), and its record. */
  const withTransient = async (registers: Record<string, Register> = {}, name = 'sn') => {
    const store = await open();
    await store.transients.create([{ transient: sampleTransient(name), registers: { A: freshRegister(1), ...registers }, bucket: CountBucket.Waiting, markers: [] }], 1);
    const record = (await store.transients.get(name)) as TransientRecord;
    return { store, record };
  };

  describe('transients', () => {
    it('creates new transients with their ready markers, and leaves existing ones as they are', async () => {
      const store = await open();
      const first = await store.transients.create([{ transient: sampleTransient('sn'), registers: { A: freshRegister(1) }, bucket: CountBucket.Waiting, markers: [marker('sn', 'A')] }], 1);
      const again = await store.transients.create(
        [
          { transient: sampleTransient('sn', { raDeg: 10 }), registers: {}, bucket: CountBucket.Waiting, markers: [] },
          { transient: sampleTransient('other'), registers: {}, bucket: CountBucket.Waiting, markers: [] },
        ],
        2,
      );

      expect(first).toEqual({ created: ['sn'], existing: [], rejected: [] });
      expect(again).toEqual({ created: ['other'], existing: ['sn'], rejected: [] });
      expect(await store.transients.get('sn')).toMatchObject({ transient: sampleTransient('sn'), version: 0, bucket: 'waiting', processingStatus: 'processing', createdAt: 1 });
      expect((await store.readiness.page('A', 0, 10)).items).toEqual([marker('sn', 'A')]);
      expect((await store.transients.getMany(['sn', 'missing', 'other', 'sn'])).map((record) => record.transient.name).sort()).toEqual(['other', 'sn']);
    });

    it('hands out copies: changing a record read changes nothing stored', async () => {
      const { store, record } = await withTransient();
      (record.registers as Record<string, Register>).A = { status: 'processed' };
      expect((await store.transients.get('sn'))?.registers.A?.status).toBe(Status.NotProcessed);
    });

    it.each([
      ['a register never written', undefined, true],
      ['"not processed"', freshRegister(1), true],
      ['a finished one', { status: 'processed', claim: 'x.t1' }, false],
      ['a live run', processing('x.t1', 2_000), false],
      ['a run whose lease ran out', processing('x.t1', 500), true],
      ['a retry waiting for its own message', { status: Status.NotProcessed, claim: 'other.t1', retryAt: 2_000 }, false],
      ['a retry that is due', { status: Status.NotProcessed, claim: 'other.t1', retryAt: 900 }, true],
    ])('claims over %s (at 1,000): %s', async (_case, current, claimed) => {
      const store = await open();
      await store.transients.create([{ transient: sampleTransient('sn'), registers: current ? { A: current } : {}, bucket: CountBucket.Waiting, markers: [] }], 1);

      const result = await store.transients.claim('sn', specA, processing('m.t2', 9_000), 1_000);

      expect(result.ok).toBe(claimed);
      expect((await store.transients.get('sn'))?.registers.A?.claim).toBe(claimed ? 'm.t2' : current?.claim);
      // A claim returns the register it replaced (a run it took over is recorded in the history from it), and the new image.
      if (result.ok) {
        expect(result.previous).toEqual(current);
        expect(result.record).toEqual(await store.transients.get('sn'));
      }
    });

    it('lets a waiting retry be claimed by its own message before it is due', async () => {
      const { store } = await withTransient({ A: { status: Status.NotProcessed, claim: 'mine.t1', retryAt: 2_000 } });
      expect((await store.transients.claim('sn', specA, processing('mine.t2', 9_000), 1_000)).ok).toBe(true);
    });

    it('re-checks every prerequisite at the claim, a missing register reading "not processed"', async () => {
      const { store } = await withTransient({ A: { status: 'processed' } });
      expect((await store.transients.claim('sn', specB, processing('m.t1', 9_000), 1)).ok).toBe(true);
      const { store: other } = await withTransient({ A: { status: 'failed' } });
      expect(await other.transients.claim('sn', specB, processing('m.t1', 9_000), 1)).toMatchObject({ ok: false, current: { registers: { A: { status: 'failed' } } } });
    });

    it('claims only for a message of the register generation', async () => {
      const { store } = await withTransient({ A: { status: Status.NotProcessed, generation: 2 } });
      expect((await store.transients.claim('sn', specA, processing('old.t1', 9_000, { generation: 1 }), 1)).ok).toBe(false);
      expect((await store.transients.claim('sn', specA, processing('new.t1', 9_000, { generation: 2 }), 1)).ok).toBe(true);
    });

    it('holds a claim refused by its own earlier landing, and no other invocation of the same message', async () => {
      const { store } = await withTransient();
      await store.transients.claim('sn', specA, processing('m.t1', 9_000), 1);
      expect((await store.transients.claim('sn', specA, processing('m.t1', 9_000), 1)).ok).toBe(true);
      expect((await store.transients.claim('sn', specA, processing('m.t2', 9_000), 1)).ok).toBe(false);
      expect(await store.transients.claim('missing', specA, processing('m.t1', 9_000), 1)).toEqual({ ok: false, current: undefined });
    });

    it('settles only while the register is "processing" under the same token', async () => {
      const { store } = await withTransient({ A: processing('m.t1', 9_000) });
      const done: Register = { status: 'processed', claim: 'm.t1', lastModified: 5 };

      expect((await store.transients.settle('sn', 'A', 'm.t2', { ...done, claim: 'm.t2' })).ok).toBe(false);
      expect(await store.transients.settle('sn', 'A', 'm.t1', done)).toMatchObject({ ok: true, bucketWritten: false, record: { registers: { A: done } } });
      // The same write again (its reply lost): its own landing. A different result under the same token: refused.
      expect((await store.transients.settle('sn', 'A', 'm.t1', done)).ok).toBe(true);
      expect((await store.transients.settle('sn', 'A', 'm.t1', { ...done, status: 'failed', lastModified: 6 })).ok).toBe(false);
      expect((await store.transients.get('sn'))?.registers.A).toEqual(done);
    });

    it('extends a lease only while the register is "processing" under the same token, as a register write', async () => {
      const { store, record } = await withTransient({ A: processing('m.t1', 9_000) });
      const extended = await store.transients.extendLease('sn', 'A', 'm.t1', 20_000);
      expect(extended).toMatchObject({ ok: true, record: { registers: { A: { status: Status.Processing, claim: 'm.t1', leaseUntil: 20_000 } } } });
      // The version moves: a compare-and-set that read the old lease (a reset, the recovery sweep) is refused.
      expect(extended.ok && extended.record.version).toBe(record.version + 1);
      expect((await store.transients.extendLease('sn', 'A', 'm.t2', 30_000)).ok).toBe(false);
      await store.transients.settle('sn', 'A', 'm.t1', { status: 'processed', claim: 'm.t1', lastModified: 5 });
      expect((await store.transients.extendLease('sn', 'A', 'm.t1', 30_000)).ok).toBe(false);
      expect((await store.transients.extendLease('missing', 'A', 'm.t1', 30_000)).ok).toBe(false);
      expect((await store.transients.get('sn'))?.registers.A).toMatchObject({ status: 'processed' });
    });

    it('writes the bucket with a result only if nothing wrote since the claim, else settles alone', async () => {
      const { store, record } = await withTransient({ A: processing('m.t1', 9_000), B: processing('n.t1', 9_000) });
      const move = { from: CountBucket.Waiting, to: CountBucket.Processing, version: record.version };

      const first = await store.transients.settle('sn', 'A', 'm.t1', { status: 'processed', claim: 'm.t1' }, move);
      const second = await store.transients.settle('sn', 'B', 'n.t1', { status: 'processed', claim: 'n.t1' }, move);

      expect(first).toMatchObject({ ok: true, bucketWritten: true, record: { bucket: 'processing', processingStatus: 'processing' } });
      expect(second).toMatchObject({ ok: true, bucketWritten: false });
    });

    it('replaces registers, data and bucket, with ready markers, only if neither the version nor the bucket changed', async () => {
      const { store, record } = await withTransient({ A: { status: 'failed', claim: 'x.t1' } });
      const reset = { A: { status: Status.NotProcessed, lastModified: 9, generation: 1 } };
      const revised = sampleTransient('sn', { raDeg: 42, redshift: 0.1 });

      const written = await store.transients.replace('sn', record, reset, CountBucket.Waiting, { transient: revised, markers: [marker('sn', 'A', { generation: 1 })] });
      const stale = await store.transients.replace('sn', record, { A: { status: 'processed' } }, CountBucket.Completed, { markers: [marker('sn', 'C')] });

      expect(written).toMatchObject({ ok: true, record: { version: record.version + 1, registers: reset, transient: revised } });
      expect(stale).toMatchObject({ ok: false, current: { version: record.version + 1 } });
      expect(await store.transients.get('sn')).toMatchObject({ registers: reset, transient: revised, bucket: 'waiting' });
      expect((await store.readiness.page('A', 0, 10)).items).toEqual([marker('sn', 'A', { generation: 1 })]);
      expect((await store.readiness.page('C', 0, 10)).items).toEqual([]);
    });

    it('moves the bucket from the one read, later images winning, and knows its own earlier landing', async () => {
      const { store, record } = await withTransient();
      const later = { from: CountBucket.Waiting, to: CountBucket.Completed, version: record.version + 5 };

      expect(await store.transients.setBucket('sn', later, 'w1')).toBe(true);
      expect(await store.transients.setBucket('sn', later, 'w1')).toBe(true);
      expect(await store.transients.setBucket('sn', later, 'w2')).toBe(false);
      expect(await store.transients.setBucket('sn', { from: CountBucket.Completed, to: CountBucket.Blocked, version: record.version + 1 }, 'w3')).toBe(false);
      expect(await store.transients.get('sn')).toMatchObject({ bucket: 'completed', processingStatus: 'completed' });
    });

    it('deletes a transient and returns it as it was', async () => {
      const { store, record } = await withTransient();
      expect(await store.transients.delete('sn')).toEqual(record);
      expect(await store.transients.get('sn')).toBeUndefined();
      expect(await store.transients.delete('sn')).toBeUndefined();
    });

    it('pages a processing-status partition oldest first, and counts a shard by bucket', async () => {
      const store = await open();
      const names = Array.from({ length: 40 }, (_, i) => `t${i}`);
      await store.transients.create(
        names.map((name, i) => ({ transient: sampleTransient(name, { publicTimestamp: new Date(Date.UTC(2020, 0, 1 + i)).toISOString() }), registers: {}, bucket: i % 4 === 0 ? CountBucket.Completed : CountBucket.Waiting, markers: [] })),
        1,
      );
      const shard = shardOf('t1', STATUS_INDEX_SHARDS);
      const inShard = names.filter((name, i) => i % 4 !== 0 && shardOf(name, STATUS_INDEX_SHARDS) === shard);

      const first = await store.transients.statusPage('processing', shard, 2);
      const rest = await store.transients.statusPage('processing', shard, 100, first.entries.at(-1)?.priority);

      expect([...first.entries, ...rest.entries].map((entry) => entry.name)).toEqual(inShard);
      expect(first.more).toBe(inShard.length > 2);
      expect(rest.more).toBe(false);
      const counts = await store.transients.countShard(shard);
      expect(counts).toEqual({ waiting: inShard.length, processing: 0, blocked: 0, completed: names.filter((name, i) => i % 4 === 0 && shardOf(name, STATUS_INDEX_SHARDS) === shard).length });
    });
  });

  describe('readiness', () => {
    it('pages a shard oldest first, and deletes exactly the markers given (one written again stays)', async () => {
      const store = await open();
      const markers = ['c', 'a', 'b'].map((name, i) => marker(name, 'B', { priority: `2020-01-0${3 - i}T00:00:00.000Z#${name}` }));
      await store.readiness.put(markers);
      const first = await store.readiness.page('B', 0, 2);
      const second = first.next ? await store.readiness.page('B', 0, 2, first.next) : { items: [] };

      expect([...first.items, ...second.items].map((item) => item.name)).toEqual(['b', 'a', 'c']);
      const again = { ...marker('b'), priority: (markers[2] as ReadyMarker).priority, id: 'written-again' };
      await store.readiness.put([again]);
      await store.readiness.delete([markers[2] as ReadyMarker]);
      expect((await store.readiness.page('B', 0, 10)).items.map((item) => item.id)).toEqual(['written-again', 'id-a', 'id-c']);
    });

    it("pages the live lane's markers before the backfill lane's, each oldest first, keeping the lane; deletes exactly those given", async () => {
      const store = await open();
      const at = (day: number, name: string) => `2020-01-0${day}T00:00:00.000Z#${name}`;
      const markers = [
        marker('old-backfill', 'B', { priority: at(1, 'old-backfill'), lane: Lane.Backfill }),
        marker('new-live', 'B', { priority: at(4, 'new-live') }),
        marker('mid-backfill', 'B', { priority: at(2, 'mid-backfill'), lane: Lane.Backfill }),
        marker('old-live', 'B', { priority: at(3, 'old-live') }),
      ];
      await store.readiness.put(markers);
      const first = await store.readiness.page('B', 0, 3);
      const second = first.next ? await store.readiness.page('B', 0, 3, first.next) : { items: [] };

      expect([...first.items, ...second.items]).toEqual([markers[3], markers[1], markers[0], markers[2]]);
      await store.readiness.delete([markers[0] as ReadyMarker]);
      expect((await store.readiness.page('B', 0, 10)).items.map((item) => item.name)).toEqual(['old-live', 'new-live', 'mid-backfill']);
    });

    it("keeps a register's backfill lane through a replace, and a write without it drops it", async () => {
      const { store, record } = await withTransient();
      const reset = { A: { status: Status.NotProcessed, lastModified: 9, generation: 1, lane: Lane.Backfill } };
      const written = await store.transients.replace('sn', record, reset, CountBucket.Waiting);
      expect((await store.transients.get('sn'))?.registers.A).toEqual(reset.A);
      if (!written.ok) throw new Error('the replace was refused');
      await store.transients.replace('sn', written.record, { A: { status: Status.NotProcessed, lastModified: 10, generation: 2 } }, CountBucket.Waiting);
      expect((await store.transients.get('sn'))?.registers.A).toEqual({ status: Status.NotProcessed, lastModified: 10, generation: 2 });
    });
  });

  describe('backfills', () => {
    it('creates a backfill once, writes it only at the revision read, and lists them by id', async () => {
      const store = await open();
      const created = await store.backfills.save('bf-2', { cursor: 'a' }, undefined);
      const again = await store.backfills.save('bf-2', { cursor: 'other' }, undefined);
      const moved = await store.backfills.save('bf-2', { cursor: 'b' }, 1);
      const stale = await store.backfills.save('bf-2', { cursor: 'c' }, 1);
      await store.backfills.save('bf-1', { cursor: 'x' }, undefined);

      expect(created).toEqual({ id: 'bf-2', revision: 1, state: { cursor: 'a' } });
      expect(again).toBeUndefined();
      expect(moved).toEqual({ id: 'bf-2', revision: 2, state: { cursor: 'b' } });
      expect(stale).toBeUndefined();
      expect(await store.backfills.get('bf-2')).toEqual(moved);
      expect(await store.backfills.get('bf-3')).toBeUndefined();
      expect((await store.backfills.list()).map((record) => [record.id, record.revision])).toEqual([['bf-1', 1], ['bf-2', 2]]);
    });
  });

  describe('locks', () => {
    it('are taken when free or expired, renewed by their owner, and released by their owner only', async () => {
      const store = await open();
      expect(await store.locks.acquire('A', 'one', { until: 1_000, expiredBefore: 0 })).toBe(true);
      expect(await store.locks.acquire('A', 'two', { until: 2_000, expiredBefore: 999 })).toBe(false);
      expect(await store.locks.acquire('A', 'one', { until: 3_000, expiredBefore: 0 })).toBe(true);
      await store.locks.release('A', 'two');
      expect(await store.locks.acquire('A', 'two', { until: 4_000, expiredBefore: 3_001 })).toBe(true);
      await store.locks.release('A', 'two');
      expect(await store.locks.acquire('A', 'three', { until: 5_000, expiredBefore: 0 })).toBe(true);
    });
  });

  describe('outputs, dead letters, counters, system state', () => {
    it("keeps each run's output under its token", async () => {
      const store = await open();
      const artifact = { name: 'g.fits', key: 'sn/A/m.t2/g.fits', size: 3, sha256: 'a'.repeat(64) };
      await store.outputs.save('sn', 'A', 'm.t1', { data: { v: 1 } }, 1);
      await store.outputs.save('sn', 'A', 'm.t2', { spilled: { ...artifact, name: '_output.json' }, artifacts: { 'g.fits': artifact } }, 2);
      expect(await store.outputs.read('sn', 'A', 'm.t1')).toEqual({ data: { v: 1 } });
      expect(await store.outputs.read('sn', 'A', 'm.t2')).toEqual({ spilled: { ...artifact, name: '_output.json' }, artifacts: { 'g.fits': artifact } });
      expect(await store.outputs.read('sn', 'A', 'm.t3')).toBeUndefined();
    });

    it("keeps every attempt's history record apart, newest first within a task, a task's alone when asked, in pages", async () => {
      const store = await open();
      const inputs = { fields: { raDeg: 1, decDeg: 2 }, upstream: { A: { run: 'm.a1', version: '1' } } };
      const attempt = (task: string, run: string, startedAt: number, extra: Partial<RunRecord> = {}): RunRecord => ({
        name: 'sn',
        task,
        run,
        attempt: 1,
        startedAt,
        status: Status.Processing,
        version: '1',
        fingerprint: 'f'.repeat(12),
        inputs,
        expiresAt: 2_000_000_000,
        ...extra,
      });
      await store.history.record(attempt('B', 'm.b1', 10));
      await store.history.record(attempt('B', 'm.b2', 30));
      await store.history.record(attempt('A', 'm.a1', 5));
      // Rewritten whole when it ends.
      const ended = attempt('B', 'm.b1', 10, { endedAt: 20, durationMs: 10, status: 'processed', invocation: { requestId: 'r1', logGroup: '/aws/lambda/b', logStream: 's' }, artifacts: ['x.fits'] });
      await store.history.record(ended);
      await store.history.record(attempt('B', 'm.other', 1, { name: 'other' }));

      const ofB = await store.history.list('sn', 'B');
      const all = await store.history.list('sn');
      const first = await store.history.list('sn', 'B', 1);
      const second = await store.history.list('sn', 'B', 1, first.next);

      expect(ofB.items).toEqual([attempt('B', 'm.b2', 30), ended]);
      expect(all.items.map((run) => run.run).sort()).toEqual(['m.a1', 'm.b1', 'm.b2']);
      expect(first.items.map((run) => run.run)).toEqual(['m.b2']);
      expect(second.items.map((run) => run.run)).toEqual(['m.b1']);
      expect((await store.history.list('sn', 'C')).items).toEqual([]);
    });

    it("writes a lost attempt's record only where its run's own is not, and keeps what tells the two apart", async () => {
      const store = await open();
      const base: RunRecord = {
        name: 'sn',
        task: 'Host#match',
        run: 'm.t1',
        attempt: 2,
        startedAt: 1_000,
        endedAt: 5_000,
        durationMs: 4_000,
        status: Status.TimeLimitExceeded,
        error: 'no result',
        recorded: false,
        lost: true,
        version: '1',
        fingerprint: 'f'.repeat(12),
        inputs: { fields: { redshift: null }, upstream: { A: { run: 'm.a1' }, B: { run: 'm.b1', version: '2.0' } } },
        expiresAt: 2_000_000_000,
      };
      const own: RunRecord = { ...base, endedAt: 6_000, durationMs: 5_000, status: Status.Processed, lost: undefined, error: undefined, invocation: { requestId: 'r' } };
      delete (own as { lost?: boolean }).lost;
      delete (own as { error?: string }).error;

      await store.history.record(base, { ifAbsent: true });
      const lost = await store.history.list('sn');
      await store.history.record(own);
      await store.history.record(base, { ifAbsent: true });

      expect(lost.items).toEqual([base]);
      expect((await store.history.list('sn')).items).toEqual([own]);
    });

    it('keeps one dead letter per task and transient, paged by name', async () => {
      const store = await open();
      const letter = (name: string, reason: string) => ({ task: 'A', name, body: '{}', reason, receiveCount: 3, messageId: `m-${name}`, at: 1 });
      for (const name of ['b', 'a', 'c']) await store.deadLetters.put(letter(name, 'first'));
      await store.deadLetters.put(letter('a', 'second'));
      await store.deadLetters.delete('A', 'c');
      await store.deadLetters.delete('A', 'b', 'm-another');

      const first = await store.deadLetters.page('A', 1);
      const rest = first.next ? await store.deadLetters.page('A', 10, first.next) : { items: [] };
      expect([...first.items, ...rest.items]).toEqual([letter('a', 'second'), letter('b', 'first')]);
      expect((await store.deadLetters.page('B', 10)).items).toEqual([]);
    });

    it('adds moves to a shard, versioning every change, and repairs a shard only if unchanged since read', async () => {
      const store = await open();
      await store.counters.add(3, { waiting: 2 });
      await store.counters.add(3 + COUNTER_SHARDS, { waiting: -1, processing: 1 });
      await store.counters.add(5, { completed: 4 });
      const shard = await store.counters.readShard(3);

      expect(shard).toEqual({ counts: { waiting: 1, processing: 1, blocked: 0, completed: 0 }, version: 2 });
      expect(await store.counters.read()).toEqual({ waiting: 1, processing: 1, blocked: 0, completed: 4 });
      expect(await store.counters.repairShard(3, shard.version - 1, { waiting: 0, processing: 0, blocked: 0, completed: 0 })).toBe(false);
      expect(await store.counters.repairShard(3, shard.version, { waiting: 0, processing: 2, blocked: 0, completed: 0 })).toBe(true);
      expect(await store.counters.readShard(3)).toEqual({ counts: { waiting: 0, processing: 2, blocked: 0, completed: 0 }, version: 3 });
      expect(await store.counters.repairShard(7, 0, { waiting: 1, processing: 0, blocked: 0, completed: 0 })).toBe(true);
    });

    it("keeps a system runner's state between runs", async () => {
      const store = await open();
      expect(await store.systemState.read('Ingest')).toBeUndefined();
      await store.systemState.write('Ingest', { rowsDone: 3, date: '2024-01-01' }, 1);
      expect(await store.systemState.read('Ingest')).toEqual({ rowsDone: 3, date: '2024-01-01' });
    });
  });
});
