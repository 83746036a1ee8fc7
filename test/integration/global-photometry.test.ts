/**
 * Blast's global aperture photometry through the whole pipeline on the local runtime: the project's registry with
 * Cutout download, Global aperture construction and Global aperture photometry swapped for the Python runners
 * (runners/python/), every other task its TypeScript runner. The cutouts travel as artifacts; the fluxes saved are compared with
 * the truth behind the synthetic cutouts, which test/python/global_photometry_check.py draws again from the
 * transients' names. Skipped, saying so, without the Python packages.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ingestTransients } from '../../lib/engine/ingest';
import { outputOf } from '../../lib/engine/operations';
import { readTransientFile } from '../../lib/fixtures/transient-files';
import type { LocalRuntime } from '../../lib/local/runtime';
import { PYTHON_PACKAGE_DIR, pythonEnvironment, pythonExecutable } from '../../lib/python/interpreter';
import type { ApertureOutput, PhotometryOutput, SedOutput, ValidationOutput } from '../../runners/outputs';
import { pythonRunner } from '../../runners/python-runner';
import { registry } from '../../runners/registry';
import { startTestRuntime, waitFor } from '../helpers/local-stack';

const CHECK = 'test/python/global_photometry_check.py';
const environment = pythonEnvironment({ PYTHONPATH: [resolve('runners/python'), resolve(PYTHON_PACKAGE_DIR)].join(':') });
const available = spawnSync(pythonExecutable(), ['-c', 'import numpy, scipy, astropy, photutils'], { env: environment }).status === 0;
if (!available) {
  console.warn(`Skipping global photometry through the pipeline: ${pythonExecutable()} cannot import numpy, scipy, astropy and photutils (set BLAST_PYTHON, see docs/science.md).`);
}

const PYTHON_RUNNERS = [
  pythonRunner('runners/python/cutout_download.py', 'ImageDownload'),
  pythonRunner('runners/python/global_aperture_construction.py', 'GlobalApertureConstruction'),
  pythonRunner('runners/python/global_aperture_photometry.py', 'GlobalAperturePhotometry'),
];
/** Sample transients whose catalogued host Host match finds, so that their photometry runs. */
const NAMES = ['2010H', '2010ag', '2011dt', '2011ox'];
/** As in test/unit/global-photometry.test.ts: Blast's background takes up to 2% of a bright host's light for sky. */
const BACKGROUND_ALLOWANCE = 0.02;

const truthSchema = z.array(
  z.object({ name: z.string(), filters: z.record(z.string(), z.object({ inAperture: z.number(), total: z.number(), trueNoise: z.number() })) }),
);

/** The truth behind each transient's cutouts, for the aperture the pipeline built. */
const truthFor = (requests: { name: string; raDeg: number; decDeg: number; aperture: ApertureOutput }[]) => {
  const run = spawnSync(pythonExecutable(), [CHECK, '--truth'], { env: environment, input: JSON.stringify(requests), encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`${CHECK} --truth exited with ${run.status}: ${run.stderr.trim().split('\n').slice(-5).join('\n')}`);
  return new Map(truthSchema.parse(JSON.parse(run.stdout)).map((entry) => [entry.name, entry.filters]));
};

describe.skipIf(!available)('Integration: global aperture photometry in Python, through the pipeline', () => {
  let runtime: LocalRuntime;
  const transients = readTransientFile('fixtures/sample_transients.yaml').transients.filter((transient) => NAMES.includes(transient.name));

  beforeAll(async () => {
    const swapped = new Set(PYTHON_RUNNERS.map((runner) => runner.taskName));
    runtime = await startTestRuntime([...registry.filter((runner) => !swapped.has(runner.taskName)), ...PYTHON_RUNNERS]);
    runtime.run();
    await ingestTransients(runtime.engine, transients, { announce: true });
    await waitFor(
      'every transient to finish Global host SED inference',
      async () => {
        const records = await runtime.engine.store.transients.getMany(NAMES);
        return records.length === NAMES.length && records.every((record) => record.registers['Global host SED inference']?.status === 'processed');
      },
      // Generous: on a shared two-core machine, four transients' cutouts and fits wait their turn for a core.
      420_000,
    );
  }, 480_000);
  afterAll(() => runtime?.stop());

  it('stores each filter’s cutout as an artifact of the Cutout download run, and the filters as its output', async () => {
    for (const name of NAMES) {
      const token = (await runtime.engine.store.transients.get(name))?.registers['Cutout download']?.claim;
      const output = token === undefined ? undefined : await runtime.engine.store.outputs.read(name, 'Cutout download', token);
      expect(output?.data, name).toEqual({ filters: ['PanSTARRS g', 'PanSTARRS r', 'PanSTARRS i', 'PanSTARRS z'] });
      expect(Object.keys(output?.artifacts ?? {}).sort(), name).toEqual(['PanSTARRS_g.fits', 'PanSTARRS_i.fits', 'PanSTARRS_r.fits', 'PanSTARRS_z.fits']);
      for (const artifact of Object.values(output?.artifacts ?? {})) {
        // 512 x 512 float32 pixels and a header.
        expect(artifact.size).toBeGreaterThan(512 * 512 * 4);
        expect(artifact.sha256).toMatch(/^[0-9a-f]{64}$/);
      }
    }
  });

  it("saves each transient's fluxes within 3 sigma of the host's light in its aperture, with errors equal to the true noise", async () => {
    // Prepare
    const results = await Promise.all(
      transients.map(async ({ name, raDeg, decDeg }) => ({
        name,
        raDeg,
        decDeg,
        aperture: await outputOf<ApertureOutput>(runtime.engine, name, 'Global aperture construction'),
        photometry: await outputOf<PhotometryOutput>(runtime.engine, name, 'Global aperture photometry'),
      })),
    );
    const truths = truthFor(results.flatMap(({ name, raDeg, decDeg, aperture }) => (aperture ? [{ name, raDeg, decDeg, aperture }] : [])));

    // Assess
    const measured = results.flatMap(({ name, photometry }) =>
      Object.entries(photometry?.fluxes ?? {}).map(([filter, { flux, error }]) => ({ where: `${name}, ${filter}`, flux, error, truth: truths.get(name)?.[filter] })),
    );
    expect(measured).toHaveLength(NAMES.length * 4);
    const outside = measured.filter(({ flux, error, truth }) => !truth || Math.abs(flux - truth.inAperture) > 3 * error + BACKGROUND_ALLOWANCE * truth.inAperture);
    expect(outside.map(({ where, flux, error, truth }) => `${where}: ${flux} ± ${error}, truth ${truth?.inAperture}`)).toEqual([]);
    const mistaken = measured.filter(({ error, truth }) => !truth || Math.abs(error / truth.trueNoise - 1) > 0.1);
    expect(mistaken.map(({ where, error, truth }) => `${where}: error ${error}, true noise ${truth?.trueNoise}`)).toEqual([]);
  });

  it('hands the TypeScript tasks after it fluxes they use: validation accepts every filter, the SED fit fits them', async () => {
    for (const name of NAMES) {
      const validation = await outputOf<ValidationOutput>(runtime.engine, name, 'Validate global photometry');
      expect(validation?.validFilters.toSorted(), name).toEqual(['PanSTARRS g', 'PanSTARRS i', 'PanSTARRS r', 'PanSTARRS z']);
      const sed = await outputOf<SedOutput>(runtime.engine, name, 'Global host SED inference');
      expect(sed?.fitFilters.toSorted(), name).toEqual(['PanSTARRS g', 'PanSTARRS i', 'PanSTARRS r', 'PanSTARRS z']);
      expect(sed?.logStellarMass, name).toBeGreaterThan(6);
    }
  });
});
