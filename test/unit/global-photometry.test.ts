/**
 * Blast's global aperture photometry (runners/python/blast_science) on synthetic galaxies of known flux, without
 * the engine: test/python/global_photometry_check.py builds each galaxy's cutouts, measures them as the runners do
 * and prints JSON with the truth beside what was measured. Skipped, saying so, when the interpreter the project
 * picks (BLAST_PYTHON, .venv, python3) cannot import the science stack.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PYTHON_PACKAGE_DIR, pythonEnvironment, pythonExecutable } from '../../lib/python/interpreter';

const CHECK = 'test/python/global_photometry_check.py';
/** The check's case with no galaxy to be seen (global_photometry_check.NO_HOST). */
const NO_HOST = 'no host near the transient';
const environment = pythonEnvironment({ PYTHONPATH: [resolve('runners/python'), resolve(PYTHON_PACKAGE_DIR)].join(':') });

const scienceStack = spawnSync(pythonExecutable(), ['-c', 'import numpy, scipy, astropy, photutils'], { env: environment, encoding: 'utf8' });
const available = scienceStack.status === 0;
if (!available) {
  console.warn(`Skipping the global photometry science test: ${pythonExecutable()} cannot import numpy, scipy, astropy and photutils (set BLAST_PYTHON, see docs/science.md).`);
}

const measuredFilter = z.object({
  flux: z.number().nullable(),
  error: z.number().nullable(),
  magnitude: z.number().nullable(),
  inAperture: z.number(),
  total: z.number(),
  trueNoise: z.number(),
});
const checkedCase = z.object({
  name: z.string(),
  galaxy: z.object({ raDeg: z.number(), decDeg: z.number(), rEffArcsec: z.number(), sersicN: z.number(), ellipticity: z.number(), positionAngleDeg: z.number() }),
  aperture: z.object({ filter: z.string(), raDeg: z.number(), decDeg: z.number(), semiMajorArcsec: z.number(), semiMinorArcsec: z.number(), positionAngleDeg: z.number() }).nullable(),
  filters: z.record(z.string(), measuredFilter),
});
type CheckedCase = z.infer<typeof checkedCase>;

/**
 * Blast estimates the background without masking the host, so part of a bright host's faint wings is taken for sky
 * and subtracted: up to 2% of the flux in these galaxies, more than the pixel noise of the brightest. The error
 * model is the pixel noise only, as Blast's is; the comparison allows for both.
 */
const BACKGROUND_ALLOWANCE = 0.02;

const rows = (cases: readonly CheckedCase[]) =>
  cases.flatMap(({ name, filters }) => Object.entries(filters).map(([filter, measured]) => ({ where: `${name}, ${filter}`, ...measured })));

describe.skipIf(!available)('Science: global aperture photometry on synthetic galaxies', () => {
  let cases: CheckedCase[];
  let blank: CheckedCase | undefined;

  beforeAll(() => {
    const run = spawnSync(pythonExecutable(), [CHECK], { env: environment, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    if (run.status !== 0) throw new Error(`${CHECK} exited with ${run.status}: ${run.stderr.trim().split('\n').slice(-5).join('\n')}`);
    const checked = z.array(checkedCase).parse(JSON.parse(run.stdout));
    blank = checked.find(({ name }) => name === NO_HOST);
    cases = checked.filter(({ name }) => name !== NO_HOST);
  }, 240_000);

  it('builds no aperture when no source lies within 5 arcsec of the host: only stars farther away', () => {
    expect(blank).toMatchObject({ aperture: null, filters: {} });
  });

  it('builds every galaxy an aperture centred on it (within the seeing), a few effective radii across', () => {
    for (const { name, galaxy, aperture } of cases) {
      expect(aperture, name).not.toBeNull();
      if (!aperture) continue;
      const offsetArcsec = 3600 * Math.hypot((aperture.raDeg - galaxy.raDeg) * Math.cos((galaxy.decDeg * Math.PI) / 180), aperture.decDeg - galaxy.decDeg);
      expect(offsetArcsec, name).toBeLessThan(1);
      expect(aperture.semiMajorArcsec / galaxy.rEffArcsec, name).toBeGreaterThan(1.5);
      expect(aperture.semiMajorArcsec / galaxy.rEffArcsec, name).toBeLessThan(6);
    }
  });

  it("measures every filter's flux within 3 sigma of the galaxy's light in the aperture", () => {
    const all = rows(cases);
    expect(all).toHaveLength(cases.length * 4);
    const outside = all.filter(({ flux, error, inAperture }) => flux === null || error === null || Math.abs(flux - inAperture) > 3 * error + BACKGROUND_ALLOWANCE * inAperture);
    expect(outside.map(({ where, flux, error, inAperture }) => `${where}: ${flux} ± ${error}, truth ${inAperture.toFixed(2)}`)).toEqual([]);
  });

  it('reports errors equal to the true noise in the aperture, within 10%', () => {
    const off = rows(cases).filter(({ error, trueNoise }) => error === null || Math.abs(error / trueNoise - 1) > 0.1);
    expect(off.map(({ where, error, trueNoise }) => `${where}: error ${error}, true noise ${trueNoise.toFixed(3)}`)).toEqual([]);
  });

  it("holds most of each galaxy's light: a Kron aperture misses a few percent of a disc, more of a bulge", () => {
    for (const { where, inAperture, total } of rows(cases)) {
      expect(inAperture / total, where).toBeGreaterThan(0.75);
      expect(inAperture / total, where).toBeLessThanOrEqual(1);
    }
  });
});
