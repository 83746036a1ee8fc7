"""Measures synthetic galaxies with Blast's global aperture photometry and prints, as JSON, what was measured
beside the truth the generator knows; test/unit/global-photometry.test.ts asserts on it.

Run: ``PYTHONPATH=runners/python python test/python/global_photometry_check.py`` (from the project's root); with
``--truth``, it reads transients and the apertures a pipeline built for them on stdin and prints the truth behind
their cutouts instead (test/integration/global-photometry.test.ts).
Each case is a galaxy of known fluxes, size, shape and depth, rendered in every synthetic filter, then measured as
the runners measure it (no engine): the global aperture from the cutouts, then each filter's flux. For each filter it
reports the flux and error measured, the galaxy's own flux inside the same aperture in the noiseless image (what
the measurement estimates), its total flux, and the true noise in that aperture (from the pixels' variance).
"""

from __future__ import annotations

import io
import json
import math
import sys
from dataclasses import replace
from typing import Any, Dict, List

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS
from photutils.aperture import aperture_photometry

from blast_science.filters import FILTERS, FILTERS_BY_NAME
from blast_science.host_utils import Aperture, construct_global_aperture, global_photometry
from blast_science.photometric_calibration import flux_to_microjansky
from blast_science.synthetic_cutouts import Cutout, Observation, SyntheticGalaxy, cutouts_for, galaxy_for, observation_for, render_cutout, rng_for, stars_for

RA, DEC = 150.1, 2.2


def colours(r_mag: float) -> Dict[str, float]:
    return {"PanSTARRS g": r_mag + 0.6, "PanSTARRS r": r_mag, "PanSTARRS i": r_mag - 0.3, "PanSTARRS z": r_mag - 0.45}


def galaxy(r_mag: float, r_eff: float, n: float, ellipticity: float, pa: float) -> SyntheticGalaxy:
    # 1.2 arcsec north-east of the transient.
    return SyntheticGalaxy(RA + 0.85 / 3600 / math.cos(math.radians(DEC)), DEC + 0.85 / 3600, colours(r_mag), r_eff, n, ellipticity, pa)


NO_HOST = "no host near the transient"
#: name -> (galaxy, exposure time in s, sky brighter than dark by this many magnitudes)
CASES = {
    "bright compact round disc, deep": (galaxy(17.5, 0.7, 1.0, 0.0, 0), 1000, 0.0),
    "faint extended inclined disc, shallow": (galaxy(20.5, 1.8, 1.2, 0.5, 40), 150, 0.8),
    "bulgy galaxy": (galaxy(18.5, 1.2, 2.5, 0.2, 120), 500, 0.2),
    "nearly edge-on disc": (galaxy(19.0, 1.5, 1.0, 0.65, 75), 400, 0.3),
    "faint small galaxy, bright sky": (galaxy(21.0, 0.8, 1.0, 0.3, 160), 300, 0.6),
    # Far below the noise: only the stars, 10-15 arcsec away, are detected, too far to be the host.
    NO_HOST: (galaxy(32.0, 1.0, 1.0, 0.2, 0), 500, 0.0),
}


def truth(host: SyntheticGalaxy, cutouts: Dict[str, Cutout], aperture: Aperture) -> Dict[str, Dict[str, float]]:
    """Per filter: the galaxy's light in the aperture (noiseless), its total light and the aperture's true noise, uJy."""
    truths = {}
    for filter_name, cutout in cutouts.items():
        header = fits.getheader(io.BytesIO(cutout.fits_bytes))
        zero_point = FILTERS_BY_NAME[filter_name].zero_point(header)
        pixels = aperture.for_filter(FILTERS_BY_NAME[aperture.filter], FILTERS_BY_NAME[filter_name]).sky_aperture.to_pixel(WCS(header))
        in_aperture = float(aperture_photometry(cutout.galaxy_counts, pixels)["aperture_sum"][0])
        noise = math.sqrt(float(aperture_photometry(cutout.variance, pixels)["aperture_sum"][0]))
        truths[filter_name] = {
            "inAperture": flux_to_microjansky(in_aperture, zero_point),
            "total": host.flux_microjansky(filter_name),
            "trueNoise": flux_to_microjansky(noise, zero_point),
        }
    return truths


def galaxy_output(host: SyntheticGalaxy) -> Dict[str, Any]:
    return {"raDeg": host.ra_deg, "decDeg": host.dec_deg, "rEffArcsec": host.r_eff_arcsec, "sersicN": host.sersic_n, "ellipticity": host.ellipticity, "positionAngleDeg": host.position_angle_deg}


def measure(name: str, host: SyntheticGalaxy, observations: Dict[str, Observation]) -> Dict[str, Any]:
    stars = stars_for(name, host)
    cutouts = {f.name: render_cutout(host, stars, f, observations[f.name], (RA, DEC), rng_for(name, f.name, "noise")) for f in FILTERS}
    images = {filter_name: fits.open(io.BytesIO(cutout.fits_bytes)) for filter_name, cutout in cutouts.items()}
    aperture = construct_global_aperture(images, SkyCoord(RA, DEC, unit=u.deg))
    if aperture is None:
        return {"name": name, "galaxy": galaxy_output(host), "aperture": None, "filters": {}}
    measured = global_photometry(images, aperture)
    filters: Dict[str, Any] = {}
    for filter_name, truths in truth(host, cutouts, aperture).items():
        photometry = measured.get(filter_name)
        filters[filter_name] = {
            "flux": None if photometry is None else photometry.flux,
            "error": None if photometry is None else photometry.flux_error,
            "magnitude": None if photometry is None else photometry.magnitude,
            **truths,
        }
    return {"name": name, "galaxy": galaxy_output(host), "aperture": aperture.to_output(), "filters": filters}


def transient_truth(request: Dict[str, Any]) -> Dict[str, Any]:
    """The truth behind a transient's cutouts as Cutout download draws them, for the aperture a pipeline built."""
    name, ra_deg, dec_deg = request["name"], float(request["raDeg"]), float(request["decDeg"])
    host = galaxy_for(name, ra_deg, dec_deg)
    return {"name": name, "galaxy": galaxy_output(host), "filters": truth(host, cutouts_for(name, ra_deg, dec_deg), Aperture.from_output(request["aperture"]))}


def main() -> List[Dict[str, Any]]:
    results = []
    for name, (host, exptime, brighter) in CASES.items():
        observations = {f.name: replace(observation_for(name, f), exptime_s=float(exptime)) for f in FILTERS}
        observations = {key: replace(value, sky_mag_per_arcsec2=value.sky_mag_per_arcsec2 - brighter) for key, value in observations.items()}
        results.append(measure(name, host, observations))
    # Two transients as Cutout download draws them, from their names alone.
    for name in ("2010H", "2010ag"):
        host = galaxy_for(name, RA, DEC)
        results.append(measure(name, host, {f.name: observation_for(name, f) for f in FILTERS}))
    return results


if __name__ == "__main__":
    if sys.argv[1:] == ["--truth"]:
        # Transients ({name, raDeg, decDeg, aperture}) on stdin: the truth behind their cutouts.
        json.dump([transient_truth(request) for request in json.load(sys.stdin)], sys.stdout)
    else:
        json.dump(main(), sys.stdout)
