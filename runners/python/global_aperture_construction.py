"""Global aperture construction (Blast: ``GlobalApertureConstruction`` in app/host/transient_tasks.py).

The elliptical Kron aperture of the host's segment in the first cutout, in Blast's order of filters, that yields
one (blast_science/host_utils.py). Blast centres its search on the matched host's coordinates; this project's Host
match saves only a catalogue name, and the synthetic sky puts the host within 2 arcsec of the transient, so the
search starts at the transient: the nearest source within 5 arcsec is the host.
"""

from blast_tasks import TransientTaskRunner


class GlobalApertureConstruction(TransientTaskRunner):
    timeout_seconds = 120
    # The cutouts are artifacts of Cutout download.
    reads_artifacts = True

    def _prerequisites(self):
        return {
            "Cutout download": "processed",
            "Transient MWEBV": "processed",
            "Host match": "processed",
            "Host information": "processed",
            "Global aperture construction": "not processed",
        }

    @property
    def task_name(self):
        return "Global aperture construction"

    def _failed_status_message(self):
        return "failed"

    def _run_process(self, transient):
        import astropy.units as u
        from astropy.coordinates import SkyCoord

        from blast_science.cutout_files import read_cutouts
        from blast_science.host_utils import construct_global_aperture

        aperture = construct_global_aperture(read_cutouts(self.context), SkyCoord(transient.ra_deg, transient.dec_deg, unit=u.deg))
        if aperture is None:
            # As Blast: no source near the host in any filter.
            return self._failed_status_message()
        self.context.save(aperture.to_output())
        return "processed"
