import { abMagToMicroJansky } from './astro';
import { StatusMessage } from '../../lib/generated/fixtures';
import type { TaskContext } from '../../lib/runner';
import { type PhotometryOutput, type ValidationOutput, requireOutput } from '../outputs';

/** Calibration error (5%) plus the sky-noise floor of a cutout, microjansky. */
export const fluxError = (flux: number, floorMicroJansky: number) => Math.round((0.05 * flux + floorMicroJansky) * 1000) / 1000;

/** Flux of a host detected in `magnitudes`, measured in the filters with imaging, scaled by `fraction`. */
export const measure = (
  magnitudes: Readonly<Record<string, number>>,
  filters: readonly string[],
  fraction: number,
  floorMicroJansky: number,
): PhotometryOutput['fluxes'] => {
  const fluxes: PhotometryOutput['fluxes'] = {};
  for (const filter of filters) {
    const mag = magnitudes[filter];
    if (mag === undefined) continue;
    const flux = Math.round(abMagToMicroJansky(mag) * fraction * 1000) / 1000;
    fluxes[filter] = { flux, error: fluxError(flux, floorMicroJansky) };
  }
  return fluxes;
};

/** Filters measured at a signal-to-noise of at least `minSnr`. */
export const validFilters = (fluxes: PhotometryOutput['fluxes'], minSnr = 3): string[] =>
  Object.entries(fluxes)
    .filter(([, { flux, error }]) => flux / error >= minSnr)
    .map(([filter]) => filter);

/** Validates a task's photometry: enough well-measured filters saves them and succeeds, else `tooFew`. */
export const validatePhotometry = async (context: TaskContext, photometryTask: string, minFilters: number, tooFew: string) => {
  const photometry = await requireOutput<PhotometryOutput>(context, photometryTask);
  const output: ValidationOutput = { validFilters: validFilters(photometry.fluxes) };
  if (output.validFilters.length < minFilters) return tooFew;
  await context.save({ ...output });
  return StatusMessage.Processed;
};
