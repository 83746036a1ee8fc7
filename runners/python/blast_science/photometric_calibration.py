"""Counts to calibrated fluxes and magnitudes (Blast: app/host/photometric_calibration.py)."""

from __future__ import annotations

import math

#: The AB zero point of a microjansky: m_AB = 23.9 - 2.5 log10(f / 1 uJy).
AB_MICROJANSKY_ZERO_POINT = 23.9


def flux_to_mag(flux: float, zero_point_mag: float) -> float:
    """Magnitude of ``flux`` counts for an image whose ``zero_point_mag`` is the magnitude of one count."""
    return -2.5 * math.log10(flux) + zero_point_mag


def fluxerr_to_magerr(flux: float, fluxerr: float) -> float:
    """Magnitude error of a flux error, to first order (2.5 / ln 10 = 1.0857)."""
    return 1.0857 * fluxerr / flux


def flux_to_microjansky(flux: float, zero_point_mag: float) -> float:
    """Counts to microjansky (Blast: ``flux_to_mJy_flux``, which returns microjansky despite its name).

    Errors scale the same way (Blast: ``fluxerr_to_mJy_fluxerr``).
    """
    return flux * 10 ** (-0.4 * (zero_point_mag - AB_MICROJANSKY_ZERO_POINT))


def ab_mag_to_microjansky(ab_mag: float) -> float:
    """AB magnitude to microjansky (Blast: ``ab_mag_to_mJy``)."""
    return 10 ** (-0.4 * (ab_mag - AB_MICROJANSKY_ZERO_POINT))
