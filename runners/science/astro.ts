/**
 * Small, deterministic astronomy used by the example runners: sky geometry, a cosecant-law stand-in for
 * the SFD dust map, and flat ΛCDM distances. Enough for the workflow to do real work on real coordinates.
 */
const DEG = Math.PI / 180;

/** Great-circle separation in degrees (haversine, stable at small angles). */
export const angularSeparationDeg = (ra1: number, dec1: number, ra2: number, dec2: number): number => {
  const dRa = (ra2 - ra1) * DEG;
  const dDec = (dec2 - dec1) * DEG;
  const a = Math.sin(dDec / 2) ** 2 + Math.cos(dec1 * DEG) * Math.cos(dec2 * DEG) * Math.sin(dRa / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(a)))) / DEG;
};

// J2000 orientation of the Galactic frame.
const NGP_RA = 192.85948 * DEG;
const NGP_DEC = 27.12825 * DEG;
const L_NCP = 122.93192 * DEG;

/** ICRS (ra, dec) in degrees to Galactic (l, b) in degrees. */
export const toGalactic = (raDeg: number, decDeg: number): { l: number; b: number } => {
  const ra = raDeg * DEG;
  const dec = decDeg * DEG;
  const sinB = Math.sin(dec) * Math.sin(NGP_DEC) + Math.cos(dec) * Math.cos(NGP_DEC) * Math.cos(ra - NGP_RA);
  const b = Math.asin(sinB);
  const y = Math.cos(dec) * Math.sin(ra - NGP_RA);
  const x = Math.sin(dec) * Math.cos(NGP_DEC) - Math.cos(dec) * Math.sin(NGP_DEC) * Math.cos(ra - NGP_RA);
  const l = (L_NCP - Math.atan2(y, x)) / DEG;
  return { l: ((l % 360) + 360) % 360, b: b / DEG };
};

const H0 = 70; // km/s/Mpc
const OMEGA_M = 0.3;
const C_KM_S = 299792.458;

/** Comoving distance in Mpc for flat ΛCDM (Simpson's rule; smooth integrand, 200 steps is plenty). */
export const comovingDistanceMpc = (z: number): number => {
  const steps = 200;
  const h = z / steps;
  const e = (zz: number) => 1 / Math.sqrt(OMEGA_M * (1 + zz) ** 3 + (1 - OMEGA_M));
  let sum = e(0) + e(z);
  for (let i = 1; i < steps; i++) sum += (i % 2 === 0 ? 2 : 4) * e(i * h);
  return (C_KM_S / H0) * (h / 3) * sum;
};

export const luminosityDistanceMpc = (z: number): number => comovingDistanceMpc(z) * (1 + z);

/** Physical kiloparsecs subtended by one arcsecond at redshift z. */
export const kpcPerArcsec = (z: number): number => {
  const angularDiameterMpc = comovingDistanceMpc(z) / (1 + z);
  return (angularDiameterMpc * 1000 * Math.PI) / (180 * 3600);
};

/** AB magnitude to flux density in microjansky. */
export const abMagToMicroJansky = (mag: number): number => 10 ** ((23.9 - mag) / 2.5);

/** Extinction A_λ / E(B-V) for the filters the example surveys use (Schlafly & Finkbeiner 2011 values). */
export const extinctionCoefficients: Readonly<Record<string, number>> = {
  'GALEX FUV': 8.06,
  'GALEX NUV': 8.2,
  'PanSTARRS g': 3.172,
  'PanSTARRS r': 2.271,
  'PanSTARRS i': 1.682,
  'PanSTARRS z': 1.322,
  'SDSS u': 4.239,
  'SDSS g': 3.303,
  'SDSS r': 2.285,
  '2MASS J': 0.709,
  '2MASS H': 0.449,
  '2MASS K': 0.302,
  'WISE W1': 0.189,
};
