"""The stand-in for the survey services: FITS cutouts of a model host galaxy, made here instead of downloaded.

No survey is reachable from this project's machines, so Cutout download draws the sky instead of fetching it: a
Sersic galaxy of known total flux in each filter, blurred by the filter's seeing, on a sky with a gentle gradient,
with Poisson and read noise, a few stars around it, and a TAN WCS centred on the transient. Everything is drawn from
a generator seeded by the transient's name, so a transient's cutouts are the same on every run and the tests can
draw its truth again. The cutouts' headers carry what Blast's loading code reads (EXPTIME for the zero point of
PanSTARRS' counts, the WCS); the truth stays here and is never written into them.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass
from typing import Dict, Mapping, Tuple

import numpy as np
from astropy.convolution import Gaussian2DKernel, convolve
from astropy.io import fits
from astropy.modeling.models import Sersic2D
from astropy.wcs import WCS
from scipy.special import gamma, gammaincinv

from blast_science.filters import FILTERS, Filter
from blast_science.photometric_calibration import ab_mag_to_microjansky

#: Side of a cutout in pixels: 128 arcsec at PanSTARRS' 0.25 arcsec (Blast's are 0.1 degree, 1440 pixels), wide
#: enough that Blast's background boxes, a tenth of the side, are several times the galaxy's size.
CUTOUT_SIZE_PX = 512
#: Model pixels per image pixel along each axis near the galaxy's centre (within STAMP_HALF_SIZE_PX).
OVERSAMPLING = 5
STAMP_HALF_SIZE_PX = 48
FWHM_PER_SIGMA = 2 * math.sqrt(2 * math.log(2))


@dataclass(frozen=True)
class SyntheticGalaxy:
    """A host galaxy: where it is, its shape, and its total AB magnitude in each filter."""

    ra_deg: float
    dec_deg: float
    magnitudes: Mapping[str, float]
    r_eff_arcsec: float
    sersic_n: float
    ellipticity: float
    #: Major axis, east of north.
    position_angle_deg: float

    def flux_microjansky(self, filter_name: str) -> float:
        return ab_mag_to_microjansky(self.magnitudes[filter_name])


@dataclass(frozen=True)
class Observation:
    """How deep a filter's image is: exposure time, sky brightness and read noise."""

    exptime_s: float
    sky_mag_per_arcsec2: float
    read_noise_counts: float


@dataclass(frozen=True)
class Star:
    ra_deg: float
    dec_deg: float
    magnitude: float


@dataclass(frozen=True)
class Cutout:
    """A cutout as its FITS file; and, for tests only, the noiseless galaxy it shows and each pixel's noise variance."""

    fits_bytes: bytes
    #: The galaxy alone, blurred by the seeing, counts per pixel.
    galaxy_counts: np.ndarray
    #: Poisson variance of sky, stars and galaxy, plus read noise squared, counts squared per pixel.
    variance: np.ndarray


def rng_for(*key: str) -> np.random.Generator:
    """A generator seeded by ``key`` (e.g. the transient's name and a filter), the same on every machine."""
    digest = hashlib.sha256("/".join(key).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def offset_position(ra_deg: float, dec_deg: float, arcsec: float, direction: float) -> Tuple[float, float]:
    """The position ``arcsec`` away in ``direction`` (radians east of north): flat-sky, right for these few arcsec."""
    return (
        ra_deg + arcsec * math.sin(direction) / 3600 / math.cos(math.radians(dec_deg)),
        dec_deg + arcsec * math.cos(direction) / 3600,
    )


def galaxy_for(transient_name: str, ra_deg: float, dec_deg: float) -> SyntheticGalaxy:
    """The host the synthetic sky puts within 2 arcsec of the transient: a disc or a bulgier galaxy, r = 17.5-20.5."""
    rng = rng_for(transient_name, "galaxy")
    ra, dec = offset_position(ra_deg, dec_deg, rng.uniform(0, 2.0), rng.uniform(0, 2 * math.pi))
    r_mag = rng.uniform(17.5, 20.5)
    colours = {"PanSTARRS g": rng.normal(0.55, 0.15), "PanSTARRS r": 0.0, "PanSTARRS i": -rng.normal(0.3, 0.08), "PanSTARRS z": -rng.normal(0.45, 0.1)}
    return SyntheticGalaxy(
        ra_deg=ra,
        dec_deg=dec,
        magnitudes={name: r_mag + colour for name, colour in colours.items()},
        r_eff_arcsec=rng.uniform(0.6, 1.8),
        sersic_n=rng.uniform(0.8, 2.5),
        ellipticity=rng.uniform(0.0, 0.6),
        position_angle_deg=rng.uniform(0, 180),
    )


#: Typical dark-sky brightness in each filter, AB mag per square arcsec.
SKY_MAG_PER_ARCSEC2 = {"PanSTARRS g": 21.9, "PanSTARRS r": 21.0, "PanSTARRS i": 20.2, "PanSTARRS z": 19.4}


def observation_for(transient_name: str, filter: Filter) -> Observation:
    """A stack of 200-1000 s under a sky up to half a magnitude brighter than dark."""
    rng = rng_for(transient_name, filter.name, "observation")
    return Observation(
        exptime_s=float(rng.uniform(200, 1000)),
        sky_mag_per_arcsec2=SKY_MAG_PER_ARCSEC2[filter.name] - float(rng.uniform(0, 0.5)),
        read_noise_counts=float(rng.uniform(3, 8)),
    )


def stars_for(transient_name: str, galaxy: SyntheticGalaxy, count: int = 3) -> Tuple[Star, ...]:
    """A few stars 10-15 arcsec from the galaxy: sources the global aperture must not take for the host."""
    rng = rng_for(transient_name, "stars")
    stars = []
    for _ in range(count):
        ra, dec = offset_position(galaxy.ra_deg, galaxy.dec_deg, rng.uniform(10, 15), rng.uniform(0, 2 * math.pi))
        stars.append(Star(ra_deg=ra, dec_deg=dec, magnitude=float(rng.uniform(19, 22))))
    return tuple(stars)


def cutout_wcs(ra_deg: float, dec_deg: float, filter: Filter, size_px: int = CUTOUT_SIZE_PX) -> WCS:
    """A north-up, east-left gnomonic WCS with the cutout's centre at (ra, dec)."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra_deg, dec_deg]
    wcs.wcs.crpix = [(size_px + 1) / 2, (size_px + 1) / 2]
    wcs.wcs.cdelt = [-filter.pixel_size_arcsec / 3600, filter.pixel_size_arcsec / 3600]
    wcs.wcs.cunit = ["deg", "deg"]
    return wcs


def sersic_amplitude(total: float, r_eff: float, n: float, ellipticity: float) -> float:
    """Surface brightness at the effective radius of a Sersic profile whose integral is ``total``."""
    b_n = gammaincinv(2 * n, 0.5)
    return total / (2 * math.pi * n * r_eff**2 * (1 - ellipticity) * math.exp(b_n) * b_n ** (-2 * n) * gamma(2 * n))


def _galaxy_counts(galaxy: SyntheticGalaxy, wcs: WCS, filter: Filter, total_counts: float, size_px: int) -> np.ndarray:
    x0, y0 = (float(value) for value in wcs.world_to_pixel_values(galaxy.ra_deg, galaxy.dec_deg))
    r_eff_px = galaxy.r_eff_arcsec / filter.pixel_size_arcsec
    # North is +y and east is -x, so a position angle east of north is 90 degrees more from +x.
    theta = math.radians(galaxy.position_angle_deg + 90)
    amplitude = sersic_amplitude(total_counts, r_eff_px, galaxy.sersic_n, galaxy.ellipticity)
    model = Sersic2D(amplitude=amplitude, r_eff=r_eff_px, n=galaxy.sersic_n, x_0=x0, y_0=y0, ellip=galaxy.ellipticity, theta=theta)
    y, x = np.mgrid[0:size_px, 0:size_px]
    counts = model(x, y)
    # Near the centre, average each pixel over a grid of sub-pixels, so that the cusp is integrated, not sampled.
    half = STAMP_HALF_SIZE_PX
    rows = slice(max(0, int(y0) - half), min(size_px, int(y0) + half))
    columns = slice(max(0, int(x0) - half), min(size_px, int(x0) + half))
    offsets = (np.arange(OVERSAMPLING) + 0.5) / OVERSAMPLING - 0.5
    fine_y = (np.arange(rows.start, rows.stop)[:, None] + offsets[None, :]).ravel()
    fine_x = (np.arange(columns.start, columns.stop)[:, None] + offsets[None, :]).ravel()
    yy, xx = np.meshgrid(fine_y, fine_x, indexing="ij")
    shape = (rows.stop - rows.start, OVERSAMPLING, columns.stop - columns.start, OVERSAMPLING)
    counts[rows, columns] = model(xx, yy).reshape(shape).mean(axis=(1, 3))
    return counts


def counts_of(magnitude: float, zero_point: float) -> float:
    """Counts of a source of ``magnitude`` in an image whose one count is ``zero_point``."""
    return 10 ** (-0.4 * (magnitude - zero_point))


def render_cutout(
    galaxy: SyntheticGalaxy,
    stars: Tuple[Star, ...],
    filter: Filter,
    observation: Observation,
    centre: Tuple[float, float],
    rng: np.random.Generator,
    size_px: int = CUTOUT_SIZE_PX,
) -> Cutout:
    """One filter's cutout centred on ``centre`` (ra, dec), in counts, as a PanSTARRS stack cutout comes."""
    wcs = cutout_wcs(centre[0], centre[1], filter, size_px)
    header = fits.Header()
    header["EXPTIME"] = (observation.exptime_s, "exposure time, s")
    zero_point = filter.zero_point(header)

    galaxy_counts = _galaxy_counts(galaxy, wcs, filter, counts_of(galaxy.magnitudes[filter.name], zero_point), size_px)
    points = np.zeros((size_px, size_px))
    for star in stars:
        column, row = (int(round(float(value))) for value in wcs.world_to_pixel_values(star.ra_deg, star.dec_deg))
        if 0 <= column < size_px and 0 <= row < size_px:
            points[row, column] += counts_of(star.magnitude, zero_point)
    psf = Gaussian2DKernel(filter.image_fwhm_arcsec / filter.pixel_size_arcsec / FWHM_PER_SIGMA)
    galaxy_counts = convolve(galaxy_counts, psf, boundary="fill", fill_value=0.0, normalize_kernel=True)
    stars_counts = convolve(points, psf, boundary="fill", fill_value=0.0, normalize_kernel=True)

    sky_per_pixel = counts_of(observation.sky_mag_per_arcsec2, zero_point) * filter.pixel_size_arcsec**2
    # A sky 4% brighter on one side than the other: the background has to be estimated, not assumed flat.
    gradient = 1 + 0.04 * (np.arange(size_px)[None, :] / size_px - 0.5)
    expected = galaxy_counts + stars_counts + sky_per_pixel * gradient
    image = rng.poisson(expected).astype(np.float64) + rng.normal(0, observation.read_noise_counts, expected.shape)

    header.update(wcs.to_header())
    header["FILTER"] = (filter.name, "synthetic survey filter")
    header["BUNIT"] = "counts"
    header["ORIGIN"] = ("blast synthetic survey", "made by Cutout download, not downloaded")
    buffer = io.BytesIO()
    fits.PrimaryHDU(image.astype(np.float32), header=header).writeto(buffer)
    return Cutout(buffer.getvalue(), galaxy_counts, expected + observation.read_noise_counts**2)


def cutouts_for(transient_name: str, ra_deg: float, dec_deg: float) -> Dict[str, Cutout]:
    """The transient's cutout in every synthetic filter, keyed by filter name."""
    galaxy = galaxy_for(transient_name, ra_deg, dec_deg)
    stars = stars_for(transient_name, galaxy)
    return {
        filter.name: render_cutout(galaxy, stars, filter, observation_for(transient_name, filter), (ra_deg, dec_deg), rng_for(transient_name, filter.name, "noise"))
        for filter in FILTERS
    }
