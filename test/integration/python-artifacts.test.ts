/**
 * Artifacts across languages on the local runtime: a TypeScript runner puts a cutout, a Python runner reads it and
 * the TypeScript output through `self.context` (from its event: no table access), puts its own artifact and saves
 * an output too large for an item, and a later TypeScript runner reads both. A reprocess makes new runs whose
 * artifacts supersede the old; pruning (the Prune scratch data runner) removes the old runs' files and keeps the
 * current ones.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPILLED_OUTPUT_NAME, runOfArtifactKey } from '../../lib/domain/artifacts';
import { ingestTransients } from '../../lib/engine/ingest';
import { reprocess } from '../../lib/engine/operations';
import type { LocalRuntime } from '../../lib/local/runtime';
import { describePythonRunners } from '../../lib/python/declarations';
import { PythonTransientRunner } from '../../lib/runner';
import { PruneScratchData } from '../../runners/prune-scratch-data';
import { runner, sampleTransient } from '../helpers/factories';
import { fixturesWithTasks, startTestRuntime, waitFor } from '../helpers/local-stack';

const dir = mkdtempSync(join(tmpdir(), 'python-artifacts-'));
const file = join(dir, 'photometry.py');
writeFileSync(
  file,
  `from blast_tasks import TransientTaskRunner


class Photometry(TransientTaskRunner):
    task_name = "Photometry"
    uses_artifacts = True

    def _prerequisites(self):
        return {"Cutouts": "processed", "Photometry": "not processed"}

    def _run_process(self, transient):
        cutout = self.context.artifacts.get("cutouts/g.fits", task="Cutouts")
        listed = [artifact.name for artifact in self.context.artifacts.list(task="Cutouts")]
        filters = self.context.output("Cutouts")["filters"]
        table = f"{transient.name},{len(cutout)},{cutout.decode()}\\n".encode()
        put = self.context.artifacts.put("photometry.csv", table, "text/csv")
        assert self.context.artifacts.get("photometry.csv") == table
        self.context.save({"flux": len(cutout), "filters": filters, "listed": listed, "sha256": put.sha256,
                           "run": self.context.run_id, "attempt": self.context.attempt, "pad": "z" * 350000})
        return "processed"


class BadName(TransientTaskRunner):
    task_name = "BadName"
    uses_artifacts = True

    def _prerequisites(self):
        return {"BadName": "not processed"}

    def _run_process(self, transient):
        self.context.artifacts.put("../other-run/g.fits", b"x")
        return "processed"


class Undeclared(TransientTaskRunner):
    task_name = "Undeclared"

    def _prerequisites(self):
        return {"Undeclared": "not processed"}

    def _run_process(self, transient):
        self.context.artifacts.put("g.fits", b"x")
        return "processed"
`,
);

const TASKS = ['Cutouts', 'Photometry', 'Report', 'BadName', 'Undeclared'];

describe('Integration: artifacts of TypeScript and Python runners on the local runtime', () => {
  let runtime: LocalRuntime;
  const reports: Record<string, unknown>[] = [];
  const artifactDir = mkdtempSync(join(tmpdir(), 'artifact-location-'));

  beforeAll(async () => {
    const [photometry, badName, undeclared] = describePythonRunners([file]).map((declared) => new PythonTransientRunner(declared));
    if (!photometry || !badName || !undeclared) throw new Error('the Python runners were not read');
    const cutouts = runner('Cutouts', {}, {
      process: async (transient, context) => {
        await context.artifacts.put('cutouts/g.fits', `pixels of ${transient.name} by ${context.runId}`, 'application/fits');
        await context.save({ filters: ['g'] });
        return 'processed';
      },
      settings: { usesArtifacts: true },
    });
    const report = runner('Report', { Photometry: 'processed' }, {
      settings: { readsArtifacts: true },
      process: async (_transient, context) => {
        const table = await context.artifacts.get('photometry.csv', { task: 'Photometry' });
        const measured = await context.output<{ flux: number; filters: string[]; listed: string[]; run: string; attempt: number; pad: string }>('Photometry');
        reports.push({ table: table && Buffer.from(table).toString('utf8'), ...measured, pad: measured?.pad.length, by: context.runId });
        return 'processed';
      },
    });
    runtime = await startTestRuntime([cutouts, photometry, report, badName, undeclared, new PruneScratchData()], {
      fixturesDir: fixturesWithTasks(TASKS),
      retryBaseSeconds: 0,
      artifactDir,
      onPythonOutput: () => undefined,
    });
    runtime.run();
  }, 60_000);
  afterAll(() => runtime?.stop());

  const registers = async () => (await runtime.engine.store.transients.get('sn'))?.registers ?? {};
  const keys = async () => {
    const found: string[] = [];
    for await (const page of runtime.engine.artifacts?.list('') ?? []) found.push(...page.map((object) => object.key));
    return found.sort();
  };
  const claims = async () => Object.fromEntries(Object.entries(await registers()).map(([task, register]) => [task, register?.claim]));

  it('a Python runner reads a TypeScript runner\'s artifact and output, and a later runner reads the Python run\'s', async () => {
    // Act
    await ingestTransients(runtime.engine, [sampleTransient('sn')], { announce: true });
    await waitFor('Report to run', async () => (await registers()).Report?.status === 'processed');

    // Assess
    const runs = await claims();
    expect(reports).toEqual([
      {
        table: `sn,${`pixels of sn by ${runs.Cutouts}`.length},pixels of sn by ${runs.Cutouts}\n`,
        flux: `pixels of sn by ${runs.Cutouts}`.length,
        filters: ['g'],
        listed: ['cutouts/g.fits'],
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        run: runs.Photometry,
        attempt: 1,
        pad: 350_000,
        by: runs.Report,
      },
    ]);
    // The Python run's output went to an artifact, recorded in its output item with its artifacts.
    const recorded = await runtime.engine.store.outputs.read('sn', 'Photometry', runs.Photometry ?? '');
    expect(recorded?.spilled).toMatchObject({ name: SPILLED_OUTPUT_NAME, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(Object.keys(recorded?.artifacts ?? {})).toEqual(['photometry.csv']);
    expect(await keys()).toHaveLength(3);
  });

  it('a Python run that names an artifact badly is recorded as failed at once, with the reason', async () => {
    const register = await waitFor('BadName to fail', async () => {
      const found = (await registers()).BadName;
      return found?.status === 'failed' && found;
    });
    expect(register).toMatchObject({ attempt: 1, lastError: expect.stringMatching(/ArtifactLimitError: artifact name "\.\.\/other-run\/g\.fits" must be/) });
  });

  it('a Python run that puts an artifact without declaring uses_artifacts is recorded as failed at once, and wrote nothing', async () => {
    const register = await waitFor('Undeclared to fail', async () => {
      const found = (await registers()).Undeclared;
      return found?.status === 'failed' && found;
    });
    expect(register).toMatchObject({ attempt: 1, lastError: expect.stringMatching(/ArtifactLimitError: artifact "g\.fits": this runner does not declare uses_artifacts = True/) });
    expect((await keys()).filter((key) => key.includes('Undeclared'))).toEqual([]);
  });

  it('a reprocess makes new runs whose artifacts supersede the old; pruning removes the old runs\' files, not the current', async () => {
    // Prepare
    const before = await claims();
    await reprocess(runtime.engine, 'sn');
    await waitFor('Report to run again', async () => (await registers()).Report?.status === 'processed' && reports.length === 2);
    const after = await claims();
    expect(after.Cutouts).not.toBe(before.Cutouts);
    expect(reports[1]).toMatchObject({ table: expect.stringContaining(`by ${after.Cutouts}`), run: after.Photometry });
    expect(await keys()).toHaveLength(6);

    // Act
    await runtime.invokeSystemRunner(new PruneScratchData().taskName);

    // Assess: every file left belongs to the run its register holds, and each current run kept all of its files
    const left = await keys();
    expect(left.map((key) => runOfArtifactKey(key)?.runId).sort()).toEqual([after.Cutouts, after.Photometry, after.Photometry].sort());
    expect(left.map((key) => runOfArtifactKey(key)?.name).sort()).toEqual([SPILLED_OUTPUT_NAME, 'cutouts/g.fits', 'photometry.csv'].sort());
  });
});
