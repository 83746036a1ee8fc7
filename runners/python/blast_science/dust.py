"""Milky Way dust reddening towards a position, for the two MWEBV tasks.

Blast reads E(B-V) from the Schlegel, Finkbeiner & Davis (1998) dust maps (``sfdmap``); the maps cannot be fetched
here, so a plane-parallel dust layer stands in for them: E(B-V) = 0.015 csc|b|, undefined near the Galactic plane,
where only a map says anything. The Galactic coordinates are astropy's.
"""

from __future__ import annotations

import math
from typing import Dict, Optional

import astropy.units as u
from astropy.coordinates import SkyCoord

#: Below this Galactic latitude a cosecant law says nothing useful about dust.
MIN_LATITUDE_DEG = 10.0
#: E(B-V) of the layer towards a Galactic pole.
POLE_EBV = 0.015


def mwebv_output(ra_deg: float, dec_deg: float) -> Optional[Dict[str, float]]:
    """The saved output of an MWEBV task, ``{ebv, galacticL, galacticB}``, or None where the model says nothing."""
    galactic = SkyCoord(ra=ra_deg * u.deg, dec=dec_deg * u.deg, frame="icrs").galactic
    b = float(galactic.b.deg)
    if abs(b) < MIN_LATITUDE_DEG:
        return None
    ebv = round(POLE_EBV / math.sin(math.radians(abs(b))), 4)
    return {"ebv": ebv, "galacticL": float(galactic.l.deg), "galacticB": b}
