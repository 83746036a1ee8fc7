"""Global aperture construction and aperture photometry, as Blast does them (app/host/host_utils.py).

Blast's functions keep their names and steps; images are astropy ``HDUList``s whose first HDU holds the data and
its WCS. Left out, because no synthetic filter needs them: the WISE local background, the 2MASS noise formula and
the correlated-noise correction of ``Filter.correlation_model()`` (see docs/science.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io.fits import HDUList
from astropy.stats import SigmaClip
from astropy.wcs import WCS
from photutils.aperture import SkyEllipticalAperture, aperture_photometry
from photutils.background import Background2D, MeanBackground, SExtractorBackground
from photutils.segmentation import SourceCatalog, detect_sources
from photutils.utils import calc_total_error

from blast_science.filters import FILTERS, FILTERS_BY_NAME, Filter
from blast_science.photometric_calibration import flux_to_mag, flux_to_microjansky, fluxerr_to_magerr

#: Farthest the matched source's centroid may lie from the host, arcsec (Blast's construct_aperture).
MAX_SOURCE_SEPARATION_ARCSEC = 5.0


def estimate_background(image: HDUList, filter_name: Optional[str] = None) -> Background2D:
    """The image's background and its RMS on a mesh of boxes a tenth of the image's side."""
    data = image[0].data
    box_size = int(0.1 * np.sqrt(data.size))
    # GALEX counts so few photons that a median comes out zero: Blast takes a clipped mean there.
    if filter_name is not None and "GALEX" in filter_name:
        estimator = MeanBackground(SigmaClip(sigma=3.0))
    else:
        estimator = SExtractorBackground(sigma_clip=None)
    try:
        return Background2D(data, box_size, bkg_estimator=estimator)
    except ValueError:
        # Too many boxes lost to masked or blank pixels: accept boxes half blank.
        return Background2D(data, box_size, exclude_percentile=50, bkg_estimator=estimator)


def build_source_catalog(image: HDUList, background: Background2D, threshold_sigma: float = 3.0, n_pixels: int = 10) -> Optional[SourceCatalog]:
    """Sources at least ``n_pixels`` connected pixels ``threshold_sigma`` above the background; None if there are none."""
    subtracted = image[0].data - background.background
    segmentation = detect_sources(subtracted, threshold_sigma * background.background_rms, n_pixels)
    if segmentation is None:
        return None
    return SourceCatalog(subtracted, segmentation)


def match_source(position: SkyCoord, source_catalog: SourceCatalog, wcs: WCS) -> SourceCatalog:
    """The catalogue's source whose centroid is nearest ``position``."""
    x, y = wcs.world_to_pixel(position)
    nearest = np.argmin(np.hypot(x - source_catalog.x_centroid, y - source_catalog.y_centroid))
    return source_catalog[int(nearest)]


def elliptical_sky_aperture(source: SourceCatalog, wcs: WCS) -> SkyEllipticalAperture:
    """The source's Kron aperture (2.5 Kron radii of its segment's light), on the sky."""
    return source.kron_aperture.to_sky(wcs)


def construct_aperture(image: HDUList, position: SkyCoord) -> Optional[SkyEllipticalAperture]:
    """The global aperture of the galaxy at ``position``, or None when no source lies within 5 arcsec of it.

    A bright neighbour can merge with the host at a low threshold, so Blast raises the threshold (5, 10 ... 25
    sigma) until the nearest source is close enough, and last tries 2 sigma for a faint host.
    """
    wcs = WCS(image[0].header)
    background = estimate_background(image)

    def source_near(threshold_sigma: float) -> Tuple[Optional[SourceCatalog], float]:
        catalog = build_source_catalog(image, background, threshold_sigma=threshold_sigma)
        if catalog is None:
            return None, math.inf
        source = match_source(position, catalog, wcs)
        found = wcs.pixel_to_world(source.x_centroid, source.y_centroid)
        return source, position.separation(found).arcsec

    source, separation = None, math.inf
    for threshold_sigma in (5, 10, 15, 20, 25):
        source, separation = source_near(threshold_sigma)
        if separation <= MAX_SOURCE_SEPARATION_ARCSEC:
            break
    else:
        source, separation = source_near(2)
    if source is None or separation > MAX_SOURCE_SEPARATION_ARCSEC:
        return None
    return elliptical_sky_aperture(source, wcs)


@dataclass(frozen=True)
class Aperture:
    """A global aperture as Blast's ``Aperture`` model keeps it: the cutout's filter it was built on, and its ellipse."""

    filter: str
    ra_deg: float
    dec_deg: float
    semi_major_axis_arcsec: float
    semi_minor_axis_arcsec: float
    #: Position angle of the major axis, east of north (the sky aperture's theta).
    orientation_deg: float

    @classmethod
    def from_sky(cls, filter_name: str, sky: SkyEllipticalAperture) -> "Aperture":
        centre = sky.positions
        return cls(
            filter=filter_name,
            ra_deg=float(centre.ra.deg),
            dec_deg=float(centre.dec.deg),
            semi_major_axis_arcsec=float(sky.a.to_value(u.arcsec)),
            semi_minor_axis_arcsec=float(sky.b.to_value(u.arcsec)),
            orientation_deg=float(sky.theta.to_value(u.deg)),
        )

    @property
    def sky_aperture(self) -> SkyEllipticalAperture:
        return SkyEllipticalAperture(
            SkyCoord(self.ra_deg, self.dec_deg, unit=u.deg),
            self.semi_major_axis_arcsec * u.arcsec,
            self.semi_minor_axis_arcsec * u.arcsec,
            theta=self.orientation_deg * u.deg,
        )

    def for_filter(self, built_on: Filter, measured_in: Filter) -> "Aperture":
        """The aperture for another filter's cutout: its axes widened or narrowed in quadrature by the change of seeing."""
        if measured_in.name == self.filter:
            return self
        change = measured_in.image_fwhm_arcsec**2 - built_on.image_fwhm_arcsec**2
        return Aperture(
            filter=measured_in.name,
            ra_deg=self.ra_deg,
            dec_deg=self.dec_deg,
            semi_major_axis_arcsec=math.sqrt(self.semi_major_axis_arcsec**2 + change),
            semi_minor_axis_arcsec=math.sqrt(self.semi_minor_axis_arcsec**2 + change),
            orientation_deg=self.orientation_deg,
        )

    def to_output(self) -> Dict[str, Any]:
        """As later tasks read it (runners/outputs.ts ``ApertureOutput``)."""
        return {
            "filter": self.filter,
            "raDeg": self.ra_deg,
            "decDeg": self.dec_deg,
            "semiMajorArcsec": self.semi_major_axis_arcsec,
            "semiMinorArcsec": self.semi_minor_axis_arcsec,
            "positionAngleDeg": self.orientation_deg,
        }

    @classmethod
    def from_output(cls, output: Dict[str, Any]) -> "Aperture":
        return cls(
            filter=str(output["filter"]),
            ra_deg=float(output["raDeg"]),
            dec_deg=float(output["decDeg"]),
            semi_major_axis_arcsec=float(output["semiMajorArcsec"]),
            semi_minor_axis_arcsec=float(output["semiMinorArcsec"]),
            orientation_deg=float(output["positionAngleDeg"]),
        )


@dataclass(frozen=True)
class Photometry:
    """One filter's flux through an aperture, in microjansky, with its AB magnitude when the flux is positive."""

    flux: float
    flux_error: float
    magnitude: Optional[float]
    magnitude_error: Optional[float]


def do_aperture_photometry(image: HDUList, sky_aperture: SkyEllipticalAperture, filter: Filter) -> Optional[Photometry]:
    """The background-subtracted flux through ``sky_aperture`` and its error, calibrated with the image's zero point.

    None, as Blast's ``None`` fluxes, when the image cannot be measured: its background cannot be estimated, the
    aperture leaves the image, or the pixels under it are all zero (masked).
    """
    data = image[0].data
    header = image[0].header
    wcs = WCS(header)
    try:
        background = estimate_background(image, filter.name)
    except ValueError:
        return None

    pixel_aperture = sky_aperture.to_pixel(wcs)
    box = pixel_aperture.bbox
    if box.ixmin < 0 or box.iymin < 0 or box.ixmax > data.shape[1] or box.iymax > data.shape[0]:
        return None
    if aperture_photometry(data, pixel_aperture)["aperture_sum"][0] == 0:
        return None

    subtracted = data - background.background
    # Sky and read noise from the background's RMS, plus the source's own Poisson noise.
    error = calc_total_error(subtracted, background.background_rms, filter.effective_gain(header))
    table = aperture_photometry(subtracted, pixel_aperture, error=error)
    counts = float(table["aperture_sum"][0])
    counts_error = float(table["aperture_sum_err"][0])

    zero_point = filter.zero_point(header)
    to_ab = 10 ** (-0.4 * filter.ab_offset)
    flux = flux_to_microjansky(counts, zero_point) * to_ab
    flux_error = flux_to_microjansky(counts_error, zero_point) * to_ab
    if not (math.isfinite(flux) and math.isfinite(flux_error)):
        return None
    if counts <= 0:
        return Photometry(flux, flux_error, None, None)
    return Photometry(flux, flux_error, flux_to_mag(counts, zero_point), fluxerr_to_magerr(counts, counts_error))


def construct_global_aperture(images: Mapping[str, HDUList], position: SkyCoord) -> Optional[Aperture]:
    """The global aperture from the first filter, in Blast's order of preference, whose cutout yields one.

    Blast's ``GlobalApertureConstruction._run_process``: ``select_cutout_aperture`` then ``construct_aperture``.
    """
    for filter in FILTERS:
        image = images.get(filter.name)
        if image is None:
            continue
        sky = construct_aperture(image, position)
        if sky is not None:
            return Aperture.from_sky(filter.name, sky)
    return None


def global_photometry(images: Mapping[str, HDUList], aperture: Aperture) -> Dict[str, Photometry]:
    """Every cutout's flux through the global aperture, adjusted to its filter's seeing; filters that cannot be
    measured are left out (Blast's ``GlobalAperturePhotometry._run_process``)."""
    built_on = FILTERS_BY_NAME[aperture.filter]
    measured: Dict[str, Photometry] = {}
    for name, image in images.items():
        filter = FILTERS_BY_NAME[name]
        photometry = do_aperture_photometry(image, aperture.for_filter(built_on, filter).sky_aperture, filter)
        if photometry is not None:
            measured[name] = photometry
    return measured
