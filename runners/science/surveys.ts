import { toGalactic } from './astro';

/** Rough sky footprints of the imaging surveys Blast downloads cutouts from, with their filters. */
interface Survey {
  readonly name: string;
  readonly filters: readonly string[];
  covers(raDeg: number, decDeg: number): boolean;
}

export const surveys: readonly Survey[] = [
  { name: 'GALEX', filters: ['GALEX FUV', 'GALEX NUV'], covers: (ra, dec) => Math.abs(toGalactic(ra, dec).b) > 20 },
  { name: 'SDSS', filters: ['SDSS u', 'SDSS g', 'SDSS r'], covers: (ra, dec) => dec > -10 && ra > 100 && ra < 270 },
  { name: 'PanSTARRS', filters: ['PanSTARRS g', 'PanSTARRS r', 'PanSTARRS i', 'PanSTARRS z'], covers: (_ra, dec) => dec > -30 },
  { name: '2MASS', filters: ['2MASS J', '2MASS H', '2MASS K'], covers: () => true },
  { name: 'WISE', filters: ['WISE W1'], covers: () => true },
];

/** Filters with imaging at a position, bluest survey first. */
export const filtersCovering = (raDeg: number, decDeg: number): string[] =>
  surveys.filter((survey) => survey.covers(raDeg, decDeg)).flatMap((survey) => survey.filters);
