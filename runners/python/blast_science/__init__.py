"""Blast's science in Python: the host photometry, ported from app/host/host_utils.py and app/host/photometric_calibration.py.

- ``filters``: the filters' metadata Blast keeps on its ``Filter`` model (pixel scale, seeing, zero point and where
  to read it), for the synthetic survey's filters.
- ``photometric_calibration``: counts to magnitudes and microjansky.
- ``host_utils``: background, source catalogue, the global (Kron) aperture and aperture photometry.
- ``synthetic_cutouts``: the stand-in for the survey services: FITS cutouts of a model galaxy with noise.
- ``dust``: Milky Way E(B-V) towards a position, for Transient MWEBV and Host MWEBV (a stand-in for the SFD maps).

The runners import these inside ``_run_process``, so that reading a runner's declaration needs no science stack.
"""
