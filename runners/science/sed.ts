import { StatusMessage, TaskName } from '../../lib/generated/fixtures';
import type { TaskContext } from '../../lib/runner';
import { extinctionCoefficients } from './astro';
import { type HostInformationOutput, type MwebvOutput, type PhotometryOutput, type SedOutput, type ValidationOutput, requireOutput } from '../outputs';

const CM_PER_MPC = 3.0857e24;
const ERG_PER_MICROJANSKY = 1e-29; // erg s^-1 cm^-2 Hz^-1
/** Preferred filters for the stellar mass, reddest (least dust, closest to the mass-carrying stars) first. */
const MASS_FILTERS = ['WISE W1', '2MASS K', '2MASS H', '2MASS J', 'PanSTARRS z', 'PanSTARRS i'];
const SFR_FILTERS = ['GALEX FUV', 'GALEX NUV'];
/** Absolute AB magnitude of the Sun near 2 μm and a K-band mass-to-light ratio for a mixed population. */
const SUN_ABS_MAG = 5.08;
const LOG_MASS_TO_LIGHT = Math.log10(0.6);

/**
 * A one-band SED "fit": stellar mass from the reddest valid filter, star-formation rate from the UV
 * (Kennicutt 1998), both after removing Milky Way dust. Blast runs Prospector here.
 */
export const inferSed = (
  photometry: PhotometryOutput,
  valid: readonly string[],
  luminosityDistanceMpc: number,
  redshift: number,
  ebv: number,
): SedOutput | undefined => {
  const dereddened = (filter: string) => {
    const measured = photometry.fluxes[filter];
    return measured && measured.flux * 10 ** (0.4 * (extinctionCoefficients[filter] ?? 0) * ebv);
  };
  const massFilter = MASS_FILTERS.find((filter) => valid.includes(filter));
  const massFlux = massFilter && dereddened(massFilter);
  if (!massFlux) return undefined;
  const distanceModulus = 5 * Math.log10((luminosityDistanceMpc * 1e6) / 10);
  const absoluteMag = 23.9 - 2.5 * Math.log10(massFlux) - distanceModulus + 2.5 * Math.log10(1 + redshift);
  const logStellarMass = Math.round((-0.4 * (absoluteMag - SUN_ABS_MAG) + LOG_MASS_TO_LIGHT) * 1000) / 1000;
  const sfrFilter = SFR_FILTERS.find((filter) => valid.includes(filter));
  const uvFlux = sfrFilter && dereddened(sfrFilter);
  const luminosity = uvFlux && 4 * Math.PI * (luminosityDistanceMpc * CM_PER_MPC) ** 2 * uvFlux * ERG_PER_MICROJANSKY;
  const logSfr = luminosity ? Math.round(Math.log10(1.4e-28 * luminosity) * 1000) / 1000 : undefined;
  return { logStellarMass, ...(logSfr === undefined ? {} : { logSfr }), fitFilters: [...valid] };
};

/** The tasks whose outputs one SED fit reads: an aperture's photometry, its validation, and the dust towards it. */
export interface SedInputs {
  readonly photometry: string;
  readonly validation: string;
  readonly dust: string;
}

/** Reads the inputs' outputs, fits, saves the fit, and returns the status to record. */
export const fitAndSave = async (context: TaskContext, inputs: SedInputs) => {
  const [photometry, validation, info, dust] = await Promise.all([
    requireOutput<PhotometryOutput>(context, inputs.photometry),
    requireOutput<ValidationOutput>(context, inputs.validation),
    requireOutput<HostInformationOutput>(context, TaskName.HostInformation),
    requireOutput<MwebvOutput>(context, inputs.dust),
  ]);
  const sed = inferSed(photometry, validation.validFilters, info.luminosityDistanceMpc, info.redshift, dust.ebv);
  if (!sed) return StatusMessage.NoValidPhot;
  await context.save({ ...sed });
  return StatusMessage.Processed;
};
