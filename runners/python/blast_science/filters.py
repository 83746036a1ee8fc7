"""The filters the synthetic survey images in, with the metadata Blast keeps on its ``Filter`` model.

Field names are Blast's (app/host/models.py ``Filter``, values from app/host/data/survey_metadata.yml and its filter
fixtures). Filter names are this project's (``"PanSTARRS g"``; Blast writes ``PanSTARRS_g``), as the TypeScript
runners and their outputs name them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

from astropy.io.fits import Header


@dataclass(frozen=True)
class Filter:
    name: str
    pixel_size_arcsec: float
    #: The survey's typical seeing; Blast widens a global aperture by it, in quadrature, from filter to filter.
    image_fwhm_arcsec: float
    #: The magnitude of one count per second, or of one count in a one-second exposure (see ``zero_point``).
    magnitude_zero_point: Optional[float]
    #: A header keyword holding the image's own zero point, read in preference to the value above.
    magnitude_zero_point_keyword: Optional[str]
    #: "counts", "counts/sec" or "" (calibrated units, e.g. nanomaggies).
    image_pixel_units: str
    #: Magnitudes to add to reach AB (Vega-calibrated surveys such as 2MASS); 0 for AB surveys.
    ab_offset: float = 0.0

    def zero_point(self, header: Header) -> float:
        """The image's zero point as Blast's ``do_aperture_photometry`` reads it."""
        if self.magnitude_zero_point_keyword is not None:
            return float(header[self.magnitude_zero_point_keyword])
        if self.magnitude_zero_point is None:
            raise ValueError(f"{self.name} has neither a zero point nor a zero-point keyword")
        if self.image_pixel_units == "counts/sec":
            return self.magnitude_zero_point
        return self.magnitude_zero_point + 2.5 * math.log10(float(header["EXPTIME"]))

    def effective_gain(self, header: Header) -> float:
        """What turns a pixel's value into a count of photons, for the Poisson part of the error model.

        Images in counts per second need their exposure time; the others count (or are calibrated) already and
        Blast takes a gain of one for them.
        """
        return float(header["EXPTIME"]) if self.image_pixel_units == "counts/sec" else 1.0


def _panstarrs(band: str, fwhm: float) -> Filter:
    # PS1 stacks: counts, zero point 25 for a one-second exposure (Blast's survey metadata); 0.25"/pixel (Blast
    # writes 0.26).
    return Filter(f"PanSTARRS {band}", 0.25, fwhm, 25.0, None, "counts")


#: The synthetic survey's filters, in Blast's order of preference for building the global aperture
#: (host_utils.FILTER_NAMES starts with PanSTARRS g, r, i).
FILTERS: Tuple[Filter, ...] = (
    _panstarrs("g", 1.31),
    _panstarrs("r", 1.19),
    _panstarrs("i", 1.11),
    _panstarrs("z", 1.07),
)

FILTERS_BY_NAME: Mapping[str, Filter] = {item.name: item for item in FILTERS}


def artifact_name(filter_name: str) -> str:
    """The artifact a filter's cutout is stored under: ``PanSTARRS_g.fits`` (Blast's cutout naming)."""
    return filter_name.replace(" ", "_") + ".fits"
