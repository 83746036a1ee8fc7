/**
 * The engine's rules where interleavings decide, on the in-memory store (held to the DynamoDB adapter's rules by
 * the conformance suite): each case is an interleaving a review of issue 11 found to lose work or miscount, now
 * checked in milliseconds.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CountBucket } from '../../lib/domain/counts';
import { shardOf } from '../../lib/domain/ordering';
import { MAX_CLOCK_SKEW_MS, RETRY_RETURN_GRACE_MS, STALE_RUN_MS, visibilityTimeoutSeconds } from '../../lib/domain/time';
import { freshRegister } from '../../lib/domain/workflow';
import { recountTransients } from '../../lib/engine/counts';
import { ingestTransients } from '../../lib/engine/ingest';
import { recoverStalledTransients, retrigger } from '../../lib/engine/operations';
import { dispatchReady } from '../../lib/engine/dispatch';
import { COUNTER_SHARDS, type TransientRecord } from '../../lib/engine/store';
import { recordBucket } from '../../lib/engine/transitions';
import { upsertTransients } from '../../lib/engine/upsert';
import { type Delivery, RetryLaterError, processDelivery } from '../../lib/engine/worker';
import { engineInMemory, recordingQueues } from '../helpers/engine';
import { runner, sampleTransient } from '../helpers/factories';
import { fixturesWithTasks } from '../helpers/local-stack';

const logger = new Logger({ logLevel: 'SILENT' });
const deliver = (messageId: string, body: Record<string, unknown>, receiveCount = 1): Delivery => ({
  messageId,
  receiptHandle: `h-${messageId}-${receiveCount}`,
  body: JSON.stringify({ readyAt: 1, ...body }),
  receiveCount,
});
const options = () => ({ deadline: Date.now() + 60_000, logger });

describe('Engine rules on the in-memory store', () => {
  it('a revision while a successor waits for its retry resets the retry too, so the successor runs on the new result', async () => {
    // Prepare: P reads the redshift, T needs P processed; T failed once and waits for its retry (held by M1)
    let failures = 1;
    const runners = [
      runner('P', {}, { settings: { usesTransientFields: ['redshift'] } }),
      runner('T', { P: 'processed' }, {
        settings: { usesTransientFields: [] },
        process: () => {
          if (failures-- > 0) throw new Error('transient failure');
          return 'processed';
        },
      }),
    ];
    const { queues, sent } = recordingQueues(['P', 'T']);
    const engine = engineInMemory(runners, fixturesWithTasks(['P', 'T']), { queues, retryBaseSeconds: 60 });
    await ingestTransients(engine, [sampleTransient('sn', { redshift: 0.1 })]);
    await processDelivery(engine, deliver('p0000001-0000-4000-8000-000000000000', { transient: 'sn', task: 'P' }), options());
    const m1 = 't0000001-0000-4000-8000-000000000000';
    await expect(processDelivery(engine, deliver(m1, { transient: 'sn', task: 'T' }), options())).rejects.toBeInstanceOf(RetryLaterError);

    // Act: TNS revises the redshift; M1 comes back early (its visibility change was refused) while P runs again;
    // P's new run sends T, whose message arrives before the old retry would have been due
    sent.length = 0;
    await upsertTransients(engine, [sampleTransient('sn', { redshift: 0.2 })]);
    const pAgain = sent.find((message) => message.task === 'P');
    if (!pAgain) throw new Error('the revision did not send P again');
    await processDelivery(engine, deliver(m1, { transient: 'sn', task: 'T' }, 2), options()).catch(() => undefined);
    sent.length = 0;
    await processDelivery(engine, deliver('p0000002-0000-4000-8000-000000000000', { transient: 'sn', task: 'P', g: pAgain.g }), options());
    const announced = sent.find((message) => message.task === 'T');

    // Assess: P's new result made T ready, and T's message runs it
    expect(announced).toBeDefined();
    await processDelivery(engine, deliver('t0000002-0000-4000-8000-000000000000', { transient: 'sn', task: 'T', g: announced?.g }), options());
    expect((await engine.store.transients.get('sn'))?.registers.T).toMatchObject({ status: 'processed' });
  });

  it('two tasks whose bucket writes cross end with the bucket the registers give (the later one reads again)', async () => {
    // Prepare: A and B both ran; A's image says "processing" (B still running), B's says "completed"
    const runners = [runner('A', {}), runner('B', {})];
    const engine = engineInMemory(runners, fixturesWithTasks(['A', 'B']), { queues: recordingQueues(['A', 'B']).queues });
    await engine.store.transients.create([{ transient: sampleTransient('sn'), registers: { A: freshRegister(1), B: freshRegister(1) }, bucket: CountBucket.Waiting, markers: [] }], 1);
    const claim = (task: string, token: string) => engine.store.transients.claim('sn', { task, prerequisites: { [task]: 'not processed' }, failedStatus: 'failed' }, { status: 'processing', claim: token, leaseUntil: Date.now() + 60_000 }, Date.now());
    await claim('A', 'a.t1');
    await claim('B', 'b.t1');
    const afterA = await engine.store.transients.settle('sn', 'A', 'a.t1', { status: 'processed', claim: 'a.t1' });
    const afterB = await engine.store.transients.settle('sn', 'B', 'b.t1', { status: 'processed', claim: 'b.t1' });
    if (!afterA.ok || !afterB.ok) throw new Error('settles refused');

    // Act: B's worker writes its bucket last, from the image it read before A's write landed
    await recordBucket(engine, afterA.record);
    await recordBucket(engine, afterB.record as TransientRecord);

    // Assess
    expect((await engine.store.transients.get('sn'))?.bucket).toBe(CountBucket.Completed);
    expect(await engine.store.counters.read()).toEqual({ waiting: -1, processing: 0, blocked: 0, completed: 1 });
  });

  it('the recount leaves a shard alone while a counter update is still on its way, so the move is not counted twice', async () => {
    // Prepare: a move has landed on the transient; its counter update is delayed (throttled, backing off)
    const engine = engineInMemory([runner('A', {})], fixturesWithTasks(['A']), { queues: recordingQueues(['A']).queues });
    await ingestTransients(engine, [sampleTransient('sn')]);
    const before = await engine.store.transients.get('sn');
    await engine.store.transients.setBucket('sn', { from: CountBucket.Waiting, to: CountBucket.Completed, version: (before?.version ?? 0) + 1 }, 'w1');
    const shard = shardOf('sn', COUNTER_SHARDS);

    // Act: the update lands while the recount waits to trust the difference
    const recount = recountTransients(engine, { settleMs: 200, attempts: 1 });
    await sleep(50);
    await engine.store.counters.add(shard, { waiting: -1, completed: 1 });
    const result = await recount;

    // Assess
    expect(result.repaired).toBe(0);
    expect(await engine.store.counters.read()).toEqual({ waiting: 0, processing: 0, blocked: 0, completed: 1 });
  });

  it('the recount stops waiting for a drifted shard to settle when its signal is aborted, and leaves it for the next recount', async () => {
    // Prepare: a drift the recount would wait out for an hour
    const engine = engineInMemory([runner('A', {})], fixturesWithTasks(['A']), { queues: recordingQueues(['A']).queues });
    await ingestTransients(engine, [sampleTransient('sn')]);
    const before = await engine.store.transients.get('sn');
    await engine.store.transients.setBucket('sn', { from: CountBucket.Waiting, to: CountBucket.Completed, version: (before?.version ?? 0) + 1 }, 'w1');
    const stopping = new AbortController();

    // Act: the runtime stops while the recount waits
    const recount = recountTransients(engine, { settleMs: 3_600_000, attempts: 1, signal: stopping.signal });
    await sleep(50);
    stopping.abort(new Error('stopping'));
    const result = await recount;

    // Assess: the drifted shard is reported busy and left as it was
    expect(result).toMatchObject({ repaired: 0, busy: 1 });
    expect(await engine.store.counters.read()).toEqual({ waiting: 1, processing: 0, blocked: 0, completed: 0 });
  });

  it('an ingest that names one transient twice ingests it once, the last row winning, and the others', async () => {
    const engine = engineInMemory([runner('A', {})], fixturesWithTasks(['A']), { queues: recordingQueues(['A']).queues });
    const result = await ingestTransients(engine, [sampleTransient('good'), sampleTransient('dup'), sampleTransient('dup', { raDeg: 10 })]);
    expect(result).toMatchObject({ created: 2, existing: 0 });
    expect((await engine.store.transients.get('dup'))?.transient.raDeg).toBe(10);
    expect(await engine.store.counters.read()).toMatchObject({ waiting: 2 });
  });

  it('a retrigger leaves a task held by its waiting retry alone: the retry message runs it, not a second one', async () => {
    const engine = engineInMemory([runner('A', {})], fixturesWithTasks(['A']), { queues: recordingQueues(['A']).queues });
    await ingestTransients(engine, [sampleTransient('sn')]);
    const record = await engine.store.transients.get('sn');
    if (!record) throw new Error('not ingested');
    await engine.store.transients.replace('sn', record, { A: { status: 'not processed', claim: 'gone.t1', retryAt: Date.now() + 60_000 } }, CountBucket.Waiting);
    const result = await retrigger(engine, 'sn');
    expect(result).toMatchObject({ reset: [], sent: [] });
  });

  it('a retrigger resets a retry hold whose message never came back, once it is long past, and sends the task', async () => {
    const { queues, sent } = recordingQueues(['A']);
    const engine = engineInMemory([runner('A', {})], fixturesWithTasks(['A']), { queues });
    await ingestTransients(engine, [sampleTransient('sn')]);
    const record = await engine.store.transients.get('sn');
    if (!record) throw new Error('not ingested');
    const longAgo = Date.now() - STALE_RUN_MS - 60_000;
    await engine.store.transients.replace('sn', record, { A: { status: 'not processed', claim: 'gone.t1', retryAt: longAgo } }, CountBucket.Waiting);
    sent.length = 0;
    const result = await retrigger(engine, 'sn');
    expect(result).toMatchObject({ reset: [{ task: 'A', from: 'not processed' }], sent: ['A'] });
    expect((await engine.store.transients.get('sn'))?.registers.A?.claim).toBeUndefined();
    expect(sent.map((message) => message.task)).toEqual(['A']);
  });

  it('the recovery sweep releases a run that died after its message was deleted, and a lost retry, once their messages are overdue', async () => {
    // Prepare: A's delivery ran after its message had been deleted (a repeated batch) and died after its claim;
    // on "lost", A failed once and its retry's message is gone; "live" was taken over by its redelivery
    const started = Date.now();
    let now = started;
    const { queues, sent } = recordingQueues(['A']);
    const a = runner('A', {});
    const engine = engineInMemory([a], fixturesWithTasks(['A']), { queues, clock: () => now });
    await ingestTransients(engine, [sampleTransient('died'), sampleTransient('lost'), sampleTransient('live')], { announce: true });
    const spec = engine.workflow.specs.get('A');
    if (!spec) throw new Error('no spec');
    const claim = (name: string, token: string, attempt: number) =>
      engine.store.transients.claim(name, spec, { status: 'processing', claim: token, lastModified: now, leaseUntil: now + a.timeoutSeconds * 1000 + MAX_CLOCK_SKEW_MS, attempt }, now);
    for (const name of ['died', 'live']) await claim(name, `${name}0001.t1`, 1);
    const lost = await engine.store.transients.get('lost');
    if (!lost) throw new Error('not ingested');
    await engine.store.transients.replace('lost', lost, { A: { status: 'not processed', claim: 'lost0001.t1', lastModified: now, retryAt: now + 10_000, attempt: 1 } }, lost.bucket);

    // Act: past the lease, but before the redelivery was due, nothing is touched; once it is overdue, "died" and
    // "lost" are released ("live" was taken over by its redelivery meanwhile)
    now = started + (a.timeoutSeconds + 60) * 1000;
    const early = await recoverStalledTransients(engine);
    now = started + visibilityTimeoutSeconds(a.timeoutSeconds) * 1000 + MAX_CLOCK_SKEW_MS + RETRY_RETURN_GRACE_MS + 1;
    expect((await claim('live', 'live0002.t1', 2)).ok).toBe(true);
    sent.length = 0;
    const late = await recoverStalledTransients(engine);
    // (Sent at once here; the deployed sweep has no queue and leaves the markers to the dispatcher.)
    await dispatchReady(engine, 'A', { owner: 'test', deadline: now + 60_000 });

    // Assess: released in the same generation, so a late original message could still claim with its own count
    expect(early.recovered).toEqual([]);
    expect(late.recovered.sort()).toEqual(['died', 'lost']);
    expect(sent.map((message) => message.transient).sort()).toEqual(['died', 'lost']);
    for (const name of ['died', 'lost']) {
      const register = (await engine.store.transients.get(name))?.registers.A;
      expect(register).toMatchObject({ status: 'not processed' });
      expect(register?.claim).toBeUndefined();
      expect(register?.generation ?? 0).toBe(0);
    }
    expect((await engine.store.transients.get('live'))?.registers.A).toMatchObject({ status: 'processing', claim: 'live0002.t1' });
  });
  it('a retry released by the sweep while its message waited in a backlog still counts its attempts: the failed status is reached', async () => {
    let now = Date.now();
    const B = runner('B', {}, { settings: { maxReceiveCount: 2 }, process: () => { throw new Error('always fails'); } });
    const { queues, sent } = recordingQueues(['B']);
    const engine = engineInMemory([B], fixturesWithTasks(['B']), { queues, clock: () => now, retryBaseSeconds: 60 });
    await ingestTransients(engine, [sampleTransient('sn')], { announce: true });
    const [first] = sent.splice(0);
    const delivery = (receiveCount: number, body = first) => ({ messageId: 'b0000001-0000-4000-8000-000000000000', receiptHandle: `h${receiveCount}`, body: JSON.stringify(body), receiveCount });
    await expect(processDelivery(engine, delivery(1), { deadline: now + 60_000, logger })).rejects.toBeInstanceOf(RetryLaterError);
    const retryAt = (await engine.store.transients.get('sn'))?.registers.B?.retryAt ?? 0;

    // Act: the sweep releases the retry while its message is held up; then the message comes back (receive 2),
    // and the sweep's own copy after it
    now = retryAt + MAX_CLOCK_SKEW_MS + RETRY_RETURN_GRACE_MS + 1;
    expect((await recoverStalledTransients(engine)).recovered).toEqual(['sn']);
    await processDelivery(engine, delivery(2), { deadline: now + 60_000, logger });
    const [copy] = sent.splice(0);
    await processDelivery(engine, { ...delivery(1, copy), messageId: 'c0000001-0000-4000-8000-000000000000' }, { deadline: now + 60_000, logger });

    // Assess: the second attempt was the last, and recorded the failed status; the copy ran nothing
    expect((await engine.store.transients.get('sn'))?.registers.B).toMatchObject({ status: B.failedStatusMessage, attempt: 2 });
  });
});
