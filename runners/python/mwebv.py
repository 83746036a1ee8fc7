"""Milky Way dust reddening towards the transient and towards its host (Blast's ``host/transient_tasks.py``)."""

from blast_tasks import TransientTaskRunner


class TransientMWEBV(TransientTaskRunner):
    """E(B-V) towards the transient's position, once its cutouts are in."""

    task_name = "Transient MWEBV"
    uses_transient_fields = ("coordinates",)

    def _prerequisites(self):
        return {"Cutout download": "processed", "Transient MWEBV": "not processed"}

    def _failed_status_message(self):
        return "failed"

    def _run_process(self, transient):
        from blast_science.dust import mwebv_output

        output = mwebv_output(transient.ra_deg, transient.dec_deg)
        if output is None:
            return "no transient MWEBV"
        self.context.save(output)
        return "processed"


class HostMWEBV(TransientTaskRunner):
    """E(B-V) towards the matched host galaxy's position."""

    task_name = "Host MWEBV"
    # Reads only what Host match saved; it runs again when that does.
    uses_transient_fields = ()

    def _prerequisites(self):
        return {
            "Cutout download": "processed",
            "Transient MWEBV": "processed",
            "Host match": "processed",
            "Host information": "processed",
            "Host MWEBV": "not processed",
        }

    def _failed_status_message(self):
        return "failed"

    def _run_process(self, transient):
        from blast_science.dust import mwebv_output

        host = self.context.output("Host match")
        if host is None:
            raise ValueError('"Host match" is processed but saved no output for this transient')
        output = mwebv_output(host["raDeg"], host["decDeg"])
        if output is None:
            return "no host MWEBV"
        self.context.save(output)
        return "processed"
