"""A runner as Blast's docs write one, unchanged but for its import line (Blast: ``from host.base_tasks import ...``)."""

from blast_tasks import TransientTaskRunner


class ExampleTaskRunner(TransientTaskRunner):
    """Transient MWEBV's place in the workflow: runs once the cutouts are in, and checks the transient's position."""

    def _prerequisites(self):
        return {"Cutout download": "processed", "Transient MWEBV": "not processed"}

    @property
    def task_name(self):
        return "Transient MWEBV"

    def _failed_status_message(self):
        return "failed"

    def _run_process(self, transient):
        if not (0 <= transient.ra_deg < 360 and -90 <= transient.dec_deg <= 90):
            return "no transient MWEBV"
        return "processed"
