"""Cutout download (Blast: ``ImageDownload`` in app/host/transient_tasks.py), with the survey services stood in for.

Blast downloads a 0.1-degree cutout around the transient in every filter of every survey that covers it
(``download_and_save_cutouts`` in app/host/cutouts.py: PanSTARRS, DES, SDSS, GALEX, 2MASS, WISE...). No survey is
reachable here, so this draws them (blast_science/synthetic_cutouts.py) and stores them exactly where downloaded
files would go: one FITS artifact per filter. The galaxy's true fluxes are never stored.
"""

from blast_tasks import TransientTaskRunner


class ImageDownload(TransientTaskRunner):
    # Four 512 x 512 cutouts, drawn with a 5x oversampled galaxy.
    memory_size = 1024
    timeout_seconds = 120
    # Its cutouts are artifacts; the apertures and photometry downstream only read them.
    uses_artifacts = True

    def _prerequisites(self):
        return {"Cutout download": "not processed"}

    @property
    def task_name(self):
        return "Cutout download"

    def _failed_status_message(self):
        return "failed"

    def _run_process(self, transient):
        # The science stack is imported here, so that reading the class's declaration does not need it.
        from blast_science.filters import artifact_name
        from blast_science.synthetic_cutouts import cutouts_for

        cutouts = cutouts_for(transient.name, transient.ra_deg, transient.dec_deg)
        for filter_name, cutout in cutouts.items():
            self.context.artifacts.put(artifact_name(filter_name), cutout.fits_bytes, "application/fits")
        self.context.save({"filters": list(cutouts)})
        return "processed"
