/**
 * What each example runner saves for the later ones (`context.save` / `context.output`), in one place so
 * that producer and consumer agree on the shape.
 */
import type { TaskContext } from '../lib/runner';

export interface CutoutOutput {
  /** Filters with imaging at the transient's position. */
  readonly filters: string[];
}
export interface MwebvOutput {
  readonly ebv: number;
  readonly galacticL: number;
  readonly galacticB: number;
}
export interface HostMatchOutput {
  readonly host: string;
  /** The host's position (Host MWEBV reads it). */
  readonly raDeg: number;
  readonly decDeg: number;
  readonly separationArcsec: number;
}
export interface HostInformationOutput {
  readonly redshift: number;
  readonly redshiftSource: 'transient' | 'host';
  readonly luminosityDistanceMpc: number;
}
export interface ApertureOutput {
  readonly semiMajorArcsec: number;
  readonly semiMinorArcsec: number;
  /** East of north. */
  readonly positionAngleDeg: number;
  /** The aperture's centre and the filter whose cutout it was built on (the Python runner, as Blast's Aperture). */
  readonly raDeg?: number;
  readonly decDeg?: number;
  readonly filter?: string;
}
export interface PhotometryOutput {
  /** Filter → flux density and its error, microjansky. */
  readonly fluxes: Record<string, { flux: number; error: number }>;
  /** Filter → AB magnitude and its error, where the flux is positive (the Python runner, as Blast). */
  readonly magnitudes?: Record<string, { magnitude: number; error: number }>;
  readonly radiusArcsec?: number;
}
export interface ValidationOutput {
  readonly validFilters: string[];
}
export interface SedOutput {
  readonly logStellarMass: number;
  readonly logSfr?: number;
  readonly fitFilters: string[];
}

/** The artifact Cutout download puts: the cutouts it found, standing in for the FITS files Blast downloads. */
export const CUTOUT_INDEX = 'cutouts.json';
export interface CutoutIndex {
  readonly filters: string[];
}

/** An upstream artifact the prerequisites guarantee, as JSON; its absence means a register and its files disagree. */
export const requireJsonArtifact = async <T extends object>(context: TaskContext, task: string, name: string): Promise<T> => {
  const bytes = await context.artifacts.get(name, { task });
  if (!bytes) throw new Error(`"${task}" is processed but put no artifact "${name}" for this transient`);
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
};

/** An upstream output the prerequisites guarantee; its absence means a register and its data disagree. */
export const requireOutput = async <T extends object>(context: TaskContext, task: string): Promise<T> => {
  const output = await context.output<T>(task);
  if (!output) throw new Error(`"${task}" is processed but saved no output for this transient`);
  return output;
};
