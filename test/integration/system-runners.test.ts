/**
 * System runners on DynamoDB Local: one run at a time, declared secrets and scratch access enforced,
 * scratch pruning on a real directory, and the count snapshot's metrics.
 */
import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { registry } from '../../runners/registry';
import { PruneScratchData } from '../../runners/prune-scratch-data';
import { artifactKey } from '../../lib/domain/artifacts';
import { objectStore } from '../../lib/scratch/object-store';
import { SnapshotMetric, SnapshotTaskRegister } from '../../runners/snapshot-task-register';
import { Status } from '../../lib/domain/catalog';
import { ConfigError } from '../../lib/domain/errors';
import { ingestTransients } from '../../lib/engine/ingest';
import { runSystemTask, systemTaskContext } from '../../lib/engine/system';
import { recountTransients } from '../../lib/engine/counts';
import { COUNTER_SHARDS } from '../../lib/engine/store';
import { shardOf } from '../../lib/domain/ordering';
import { updateTransient } from '../../lib/engine/transitions';
import { type SystemTaskContext, SystemTaskRunner } from '../../lib/runner';
import { scratchStore } from '../../lib/scratch/scratch-store';
import { secretSource } from '../../lib/secrets/secret-source';
import { engineOnLocalTable } from '../helpers/engine';
import { sampleTransient } from '../helpers/factories';
import { SystemTaskName } from '../../runners/system-tasks';

const noSecrets = secretSource({}, {});
const deadline = () => Date.now() + 60_000;

/** A system runner whose run lasts until the test lets it finish. */
class Gate extends SystemTaskRunner {
  readonly taskName = 'Gate';
  runs = 0;
  release: () => void = () => undefined;
  async process() {
    this.runs++;
    await new Promise<void>((resolve) => (this.release = resolve));
  }
}

class Greedy extends SystemTaskRunner {
  readonly taskName = 'Greedy';
  async process(context: SystemTaskContext) {
    await context.secret('someone-elses-secret', ['KEY']);
  }
}

describe('Function: runSystemTask', () => {
  it('runs one run of a runner at a time: an overlapping run does nothing, a later one runs', async () => {
    // Prepare
    const gate = new Gate();
    const engine = await engineOnLocalTable([...registry, gate], 'fixtures');
    const services = { secrets: noSecrets };

    // Act
    const first = runSystemTask(engine, 'Gate', { deadline: deadline(), services });
    await vi.waitFor(() => expect(gate.runs).toBe(1), { timeout: 30_000 });
    const overlapping = await runSystemTask(engine, 'Gate', { deadline: deadline(), services });
    gate.release();
    const finished = await first;
    const later = runSystemTask(engine, 'Gate', { deadline: deadline(), services });
    await vi.waitFor(() => expect(gate.runs).toBe(2), { timeout: 30_000 });
    gate.release();

    // Assess
    expect(overlapping).toEqual({ task: 'Gate', skipped: true });
    expect(finished).toEqual({ task: 'Gate', skipped: false });
    expect(await later).toEqual({ task: 'Gate', skipped: false });
  });

  it('refuses a secret the runner does not declare, since the stack would grant no access to it', async () => {
    const engine = await engineOnLocalTable([...registry, new Greedy()], 'fixtures');
    await expect(runSystemTask(engine, 'Greedy', { deadline: deadline(), services: { secrets: noSecrets } })).rejects.toThrow(
      /runner Greedy \("Greedy"\) reads secret "someone-elses-secret" but does not declare it in secretNames/,
    );
  });

  it('refuses a context method the runner does not declare in uses, since the stack would grant it no access', async () => {
    const engine = await engineOnLocalTable(registry, 'fixtures');
    // Pruning declares processingStatuses only.
    const context = systemTaskContext(engine, new PruneScratchData(), { secrets: noSecrets }, new AbortController().signal);
    await expect(context.counts()).rejects.toThrow(/runner .*Prune scratch data.* calls context\.counts but does not declare "counts" in uses/);
    await expect(context.upsert([sampleTransient('never')])).rejects.toThrow(ConfigError);
    expect(await engine.store.transients.get('never')).toBeUndefined();
    expect(await context.processingStatuses(['never'])).toEqual(new Map());
  });

  it('says where to point SCRATCH_LOCATION when it is not set', async () => {
    const engine = await engineOnLocalTable(registry, 'fixtures');
    const context = systemTaskContext(engine, new PruneScratchData(), { secrets: noSecrets }, new AbortController().signal);
    expect(() => context.scratch()).toThrow(ConfigError);
    expect(() => context.scratch()).toThrow(/SCRATCH_LOCATION is not set/);
  });
});

describe('Runner: Prune scratch data', () => {
  it('deletes old scratch data unless its transient is still processing, and the directories it empties', async () => {
    // Prepare: "done" is completed, "busy" still processing, "gone" was never ingested; done's Host match ran twice.
    const artifacts = objectStore(mkdtempSync(join(tmpdir(), 'artifacts-')), 'ARTIFACT_LOCATION');
    const engine = await engineOnLocalTable(registry, 'fixtures', { artifacts });
    await ingestTransients(engine, [sampleTransient('done'), sampleTransient('busy')]);
    await updateTransient(engine, 'done', (record) =>
      Object.fromEntries(Object.keys(record.registers).map((task) => [task, { status: Status.Processed, lastModified: 1, ...(task === 'Host match' ? { claim: 'cur.1' } : {}) }])),
    );
    for (const run of ['cur.1', 'old.1']) await artifacts.put(artifactKey('done', 'Host match', run, 'host.json'), Buffer.from('{}'), 'application/json');
    const root = mkdtempSync(join(tmpdir(), 'scratch-'));
    const twoDaysAgo = new Date(Date.now() - 48 * 3_600_000);
    const files = { 'done/old.fits': twoDaysAgo, 'done/sub/deep.fits': twoDaysAgo, 'done/new.fits': new Date(), 'busy/old.fits': twoDaysAgo, 'gone/old.fits': twoDaysAgo, 'loose.txt': twoDaysAgo };
    for (const [key, time] of Object.entries(files)) {
      mkdirSync(dirname(join(root, key)), { recursive: true });
      writeFileSync(join(root, key), 'x'.repeat(100));
      utimesSync(join(root, key), time, time);
    }

    // Act
    await runSystemTask(engine, SystemTaskName.PruneScratchData, { deadline: deadline(), services: { secrets: noSecrets, scratch: scratchStore(root) } });

    // Assess
    expect(readdirSync(root, { recursive: true }).map(String).sort()).toEqual(['busy', 'busy/old.fits', 'done', 'done/new.fits']);
    // And the artifacts of the run its register no longer holds, whatever their age; the current run's stay.
    const left: string[] = [];
    for await (const page of artifacts.list('')) left.push(...page.map((object) => object.key));
    expect(left).toEqual([artifactKey('done', 'Host match', 'cur.1', 'host.json')]);
  });
});

describe('Runner: Snapshot task register', () => {
  it('publishes the counts of waiting, processing, blocked and completed transients as metrics', async () => {
    // Prepare: three waiting, one completed.
    const engine = await engineOnLocalTable(registry, 'fixtures');
    await ingestTransients(engine, ['a', 'b', 'c', 'd'].map((name) => sampleTransient(name)));
    await updateTransient(engine, 'd', (record) =>
      Object.fromEntries(Object.keys(record.registers).map((task) => [task, { status: Status.Processed, lastModified: 1 }])),
    );
    const recorded = vi.spyOn(engine.metrics, 'add');

    // Act
    await runSystemTask(engine, new SnapshotTaskRegister().taskName, { deadline: deadline(), services: { secrets: noSecrets } });

    // Assess
    const published = Object.fromEntries(recorded.mock.calls.filter(([task]) => task === SystemTaskName.SnapshotTaskRegister).map(([, name, value]) => [name, value]));
    expect(published).toEqual({
      [SnapshotMetric.Waiting]: 3,
      [SnapshotMetric.Processing]: 0,
      [SnapshotMetric.Blocked]: 0,
      [SnapshotMetric.Completed]: 1,
      [SnapshotMetric.Total]: 4,
    });
  });
});

describe('Function: recountTransients', () => {
  it('repairs the shard whose counters drifted from the status index, once the difference has stayed the settle period', async () => {
    // Prepare: two waiting transients, counted; then a move lost between a status write and its counter update
    // (here: one completed too many on the first one's shard)
    const engine = await engineOnLocalTable(registry, 'fixtures');
    await ingestTransients(engine, [sampleTransient('counted-a'), sampleTransient('counted-b')]);
    const drifted = shardOf('counted-a', COUNTER_SHARDS);
    await engine.store.counters.add(drifted, { completed: 1 });

    // Act: the hourly runner's recount, with a settle period shorter than its 90 s (COUNTER_UPDATE_MAX_DELAY_MS)
    const result = await recountTransients(engine, { settleMs: 1_000 });

    // Assess: that shard set to what the index holds, and no other touched
    expect(result).toMatchObject({ repaired: 1, busy: 0, before: { waiting: 2, completed: 1 }, counted: { waiting: 2, completed: 0 } });
    expect(result.shards.filter((shard) => shard.repaired).map((shard) => shard.shard)).toEqual([drifted]);
    expect(await engine.store.counters.read()).toMatchObject({ waiting: 2, processing: 0, blocked: 0, completed: 0 });
  });
});
