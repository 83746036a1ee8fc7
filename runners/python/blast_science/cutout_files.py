"""The cutouts as Cutout download stores them: one FITS artifact per filter, and the list of filters it saved."""

from __future__ import annotations

import io
from typing import Any, Dict

from astropy.io import fits
from astropy.io.fits import HDUList

from blast_science.filters import artifact_name

#: The task whose run stored the cutouts.
CUTOUT_TASK = "Cutout download"


def read_cutouts(context: Any) -> Dict[str, HDUList]:
    """Each filter's cutout, read from Cutout download's artifacts, keyed by filter name."""
    output = context.output(CUTOUT_TASK)
    if output is None:
        raise LookupError(f'"{CUTOUT_TASK}" is processed but saved no output for this transient')
    return {name: fits.open(io.BytesIO(context.artifacts.get(artifact_name(name), task=CUTOUT_TASK))) for name in output["filters"]}
