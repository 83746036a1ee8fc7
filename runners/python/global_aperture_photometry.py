"""Global aperture photometry (Blast: ``GlobalAperturePhotometry`` in app/host/transient_tasks.py).

The host's flux in every cutout through the global aperture, widened or narrowed to each filter's seeing, with
Blast's background and error model (blast_science/host_utils.py ``do_aperture_photometry``), saved as later tasks
read it: filter -> flux and error in microjansky.
"""

from blast_tasks import TransientTaskRunner


class GlobalAperturePhotometry(TransientTaskRunner):
    timeout_seconds = 120
    # The cutouts are artifacts of Cutout download.
    reads_artifacts = True

    def _prerequisites(self):
        return {
            "Cutout download": "processed",
            "Transient MWEBV": "processed",
            "Host match": "processed",
            "Host information": "processed",
            "Global aperture construction": "processed",
            "Global aperture photometry": "not processed",
        }

    @property
    def task_name(self):
        return "Global aperture photometry"

    def _failed_status_message(self):
        return "failed"

    def _run_process(self, transient):
        from blast_science.cutout_files import read_cutouts
        from blast_science.host_utils import Aperture, global_photometry

        construction = self.context.output("Global aperture construction")
        if construction is None:
            raise LookupError('"Global aperture construction" is processed but saved no aperture for this transient')
        measured = global_photometry(read_cutouts(self.context), Aperture.from_output(construction))
        if not measured:
            return "no valid phot"
        self.context.save(
            {
                "fluxes": {name: {"flux": p.flux, "error": p.flux_error} for name, p in measured.items()},
                "magnitudes": {name: {"magnitude": p.magnitude, "error": p.magnitude_error} for name, p in measured.items() if p.magnitude is not None},
            }
        )
        return "processed"
