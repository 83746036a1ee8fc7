/**
 * Artifacts through the engine, on DynamoDB Local and a local directory: a run puts them, later tasks read those of
 * the run the register holds (never those of a run whose claim was lost), an output too large for an item goes to
 * an artifact and comes back, a run over the limits fails at once, and pruning deletes the artifacts of superseded
 * runs and deleted transients but never the current ones.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { SPILLED_OUTPUT_NAME, artifactKey } from '../../lib/domain/artifacts';
import type { Engine } from '../../lib/engine/engine';
import { ingestTransients } from '../../lib/engine/ingest';
import { outputOf, reprocess } from '../../lib/engine/operations';
import { pruneArtifacts } from '../../lib/engine/prune-artifacts';
import { ArtifactIntegrityError } from '../../lib/engine/run-outputs';
import { type Delivery, RetryLaterError, processDelivery } from '../../lib/engine/worker';
import type { TaskContext, TransientTaskRunner } from '../../lib/runner';
import { objectStore } from '../../lib/scratch/object-store';
import { engineOnLocalTable, recordingQueues } from '../helpers/engine';
import { runner, sampleTransient } from '../helpers/factories';
import { fixturesWithTasks } from '../helpers/local-stack';

const fixtures = fixturesWithTasks(['A', 'B']);
const logger = new Logger({ logLevel: 'SILENT' });
let messages = 0;
/** A first delivery of a new message for `task` of transient sn (generation `g`). */
const deliver = (engine: Engine, task: string, g = 0) => {
  const id = `${(++messages).toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
  const delivery: Delivery = { messageId: id, receiptHandle: `h-${id}`, body: JSON.stringify({ transient: 'sn', task, readyAt: 1, g }), receiveCount: 1 };
  return processDelivery(engine, delivery, { deadline: Date.now() + 60_000, logger });
};

/** An engine whose runs keep their artifacts in a fresh directory; A runs `a`, B records what it read. Both declare usesArtifacts unless `declared` says otherwise. */
const setUp = async (a: (context: TaskContext) => Promise<string>, declared: { A?: Partial<TransientTaskRunner>; B?: Partial<TransientTaskRunner> } = {}) => {
  const directory = mkdtempSync(join(tmpdir(), 'artifacts-'));
  const read: Record<string, unknown>[] = [];
  const runners: TransientTaskRunner[] = [
    runner('A', {}, { process: (_transient, context) => a(context), settings: declared.A ?? { usesArtifacts: true } }),
    runner('B', { A: 'processed' }, {
      process: async (_transient, context) => {
        const output = await context.output('A');
        const cutout = await context.artifacts.get('cutouts/g.fits', { task: 'A' });
        read.push({
          cutout: cutout && Buffer.from(cutout).toString('utf8'),
          listed: (await context.artifacts.list({ task: 'A' })).map((artifact) => artifact.name),
          output,
        });
        await context.artifacts.put('sed.json', '{"mass": 10.2}', 'application/json');
        read.push({ own: Buffer.from((await context.artifacts.get('sed.json')) ?? []).toString('utf8') });
        return 'processed';
      },
      settings: declared.B ?? { usesArtifacts: true },
    }),
  ];
  const engine = await engineOnLocalTable(runners, fixtures, { queues: recordingQueues(['A', 'B']).queues, artifacts: objectStore(directory, 'ARTIFACT_LOCATION') });
  await ingestTransients(engine, [sampleTransient('sn')]);
  return { engine, directory, read };
};

const register = async (engine: Engine, task: string) => (await engine.store.transients.get('sn'))?.registers[task];

describe('Integration: artifacts', () => {
  it("records what a run put in its output item, and a later task reads them through the register's claim", async () => {
    // Prepare
    const { engine, read } = await setUp(async (context) => {
      await context.artifacts.put('cutouts/g.fits', 'SIMPLE = T', 'application/fits');
      await context.save({ filters: ['g'] });
      return 'processed';
    });

    // Act
    await deliver(engine, 'A');
    await deliver(engine, 'B');

    // Assess
    const a = await register(engine, 'A');
    const recorded = await engine.store.outputs.read('sn', 'A', a?.claim ?? '');
    expect(recorded).toEqual({
      data: { filters: ['g'] },
      artifacts: {
        'cutouts/g.fits': {
          name: 'cutouts/g.fits',
          key: artifactKey('sn', 'A', a?.claim ?? '', 'cutouts/g.fits'),
          size: 10,
          sha256: createHash('sha256').update('SIMPLE = T').digest('hex'),
        },
      },
    });
    expect(read).toEqual([{ cutout: 'SIMPLE = T', listed: ['cutouts/g.fits'], output: { filters: ['g'] } }, { own: '{"mass": 10.2}' }]);
    expect(await register(engine, 'B')).toMatchObject({ status: 'processed' });
  });

  it('records the artifacts a run put after its last save, before it settles', async () => {
    const { engine } = await setUp(async (context) => {
      await context.save({ first: true });
      await context.artifacts.put('cutouts/g.fits', 'late', 'application/fits');
      return 'processed';
    });

    await deliver(engine, 'A');

    const recorded = await engine.store.outputs.read('sn', 'A', (await register(engine, 'A'))?.claim ?? '');
    expect(Object.keys(recorded?.artifacts ?? {})).toEqual(['cutouts/g.fits']);
    expect(recorded?.data).toEqual({ first: true });
  });

  it('never reads the artifacts of a run whose claim was lost, though it wrote them last', async () => {
    // Prepare: run 1 of A claims and waits; a reprocess drops its claim; run 2 puts its cutout and finishes
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = () => resolve()));
    let runs = 0;
    const { engine, read } = await setUp(async (context) => {
      if (++runs === 1) await gate;
      await context.artifacts.put('cutouts/g.fits', `by ${context.runId}`, 'application/fits');
      return 'processed';
    });
    const first = deliver(engine, 'A');
    while (runs === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await reprocess(engine, 'sn');
    await deliver(engine, 'A', 1);
    const current = (await register(engine, 'A'))?.claim;

    // Act: run 1 goes on and writes its own cutout (under its own run's key); then B runs
    release();
    await first;
    await deliver(engine, 'B', 1);

    // Assess
    expect((await register(engine, 'A'))?.claim).toBe(current);
    expect(read[0]).toMatchObject({ cutout: `by ${current}` });
  });

  it('keeps an output too large for an item as an artifact, recorded with its size and checksum, and reads it back', async () => {
    // Prepare
    const big = { pixels: 'x'.repeat(450_000) };
    const { engine, read } = await setUp(async (context) => {
      await context.save(big);
      return 'processed';
    });

    // Act
    await deliver(engine, 'A');
    await deliver(engine, 'B');

    // Assess
    const claim = (await register(engine, 'A'))?.claim ?? '';
    const recorded = await engine.store.outputs.read('sn', 'A', claim);
    expect(recorded?.data).toBeUndefined();
    expect(recorded?.spilled).toMatchObject({ name: SPILLED_OUTPUT_NAME, key: artifactKey('sn', 'A', claim, SPILLED_OUTPUT_NAME), size: JSON.stringify(big).length });
    expect(await outputOf(engine, 'sn', 'A')).toEqual(big);
    expect(read[0]).toMatchObject({ output: big });
  });

  it('refuses to read an artifact whose bytes are not what its run recorded', async () => {
    const { engine, directory } = await setUp(async (context) => {
      await context.artifacts.put('cutouts/g.fits', 'SIMPLE = T', 'application/fits');
      return 'processed';
    });
    await deliver(engine, 'A');
    const claim = (await register(engine, 'A'))?.claim ?? '';
    writeFileSync(join(directory, artifactKey('sn', 'A', claim, 'cutouts/g.fits')), 'SIMPLE = F');

    const outcome = await deliver(engine, 'B').catch((error: unknown) => error);

    expect(outcome).toBeInstanceOf(RetryLaterError);
    expect(await register(engine, 'B')).toMatchObject({ status: 'not processed', lastError: expect.stringContaining(ArtifactIntegrityError.name) });
  });

  it('fails a run that puts more artifacts than allowed at once, with the reason, and no retry', async () => {
    const { engine } = await setUp(async (context) => {
      for (let i = 0; i < 33; i++) await context.artifacts.put(`f${i}`, 'x');
      return 'processed';
    });

    await deliver(engine, 'A');

    expect(await register(engine, 'A')).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/ArtifactLimitError: a run may put at most 32 artifacts/) });
  });

  it.each([
    ['puts an artifact', (context: TaskContext) => context.artifacts.put('cutouts/g.fits', 'SIMPLE = T', 'application/fits')],
    ['saves an output too large for an item', (context: TaskContext) => context.save({ big: 'y'.repeat(400_000) })],
  ])('fails at once, naming the declaration, a run that %s without declaring usesArtifacts; nothing is written', async (_what, write) => {
    // Prepare
    const { engine, directory } = await setUp(async (context) => {
      await write(context);
      return 'processed';
    }, { A: {} });

    // Act
    await deliver(engine, 'A');

    // Assess
    expect(await register(engine, 'A')).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/ArtifactLimitError: .*"A" does not declare usesArtifacts/) });
    expect(readdirSync(directory)).toEqual([]);
  });

  it.each([
    ['an artifact', (context: TaskContext) => context.artifacts.put('cutouts/g.fits', 'SIMPLE = T', 'application/fits'), /ArtifactLimitError: the run read artifact "cutouts\/g\.fits" of "A", but "B" does not declare readsArtifacts/],
    ['an output too large for an item', (context: TaskContext) => context.save({ big: 'y'.repeat(400_000) }), /ArtifactLimitError: the run read the output of "A", which was too large for an item .*"B" does not declare readsArtifacts/],
  ])("fails at once a run that reads another task's %s without declaring readsArtifacts", async (_what, write, error) => {
    // Prepare: B reads A's output (refused only when it went to an artifact), then A's cutout
    const { engine } = await setUp(async (context) => {
      await write(context);
      return 'processed';
    }, { B: {} });
    await deliver(engine, 'A');

    // Act
    await deliver(engine, 'B');

    // Assess
    expect(await register(engine, 'B')).toMatchObject({ status: 'failed', lastError: expect.stringMatching(error) });
  });

  it("prunes the artifacts of superseded runs and of deleted transients, and keeps the current runs'", async () => {
    // Prepare: A runs, B runs, then a reprocess and A runs again (B not yet); and files of a transient that is gone
    const { engine, directory } = await setUp(async (context) => {
      await context.artifacts.put('cutouts/g.fits', `by ${context.runId}`, 'application/fits');
      await context.save({ big: 'y'.repeat(400_000) });
      return 'processed';
    });
    await deliver(engine, 'A');
    await deliver(engine, 'B');
    const old = { a: (await register(engine, 'A'))?.claim ?? '', b: (await register(engine, 'B'))?.claim ?? '' };
    await reprocess(engine, 'sn');
    await deliver(engine, 'A', 1);
    const current = (await register(engine, 'A'))?.claim ?? '';
    await engine.artifacts?.put(artifactKey('gone', 'A', 'r.1', 'g.fits'), Buffer.from('x'), 'application/fits');
    const keysNow = async () => {
      const keys: string[] = [];
      for await (const page of engine.artifacts?.list('') ?? []) keys.push(...page.map((object) => object.key));
      return keys.sort();
    };
    expect(await keysNow()).toHaveLength(6);

    // Act
    const report = await pruneArtifacts(engine, new AbortController().signal);

    // Assess: only the current run of A keeps its files (B's register was reset: its old run is no one's now)
    expect(await keysNow()).toEqual([artifactKey('sn', 'A', current, SPILLED_OUTPUT_NAME), artifactKey('sn', 'A', current, 'cutouts/g.fits')].sort());
    expect(report).toMatchObject({ listed: 6, current: 2, deleted: 4, failed: 0, stopped: false });
    expect(old.a).not.toBe(current);
    expect(readdirSync(directory)).toEqual(['sn']);
    expect(await outputOf(engine, 'sn', 'A')).toEqual({ big: 'y'.repeat(400_000) });
  });
});
