"""Python runners whose runs happen in a container, for the stack's tests: stand-ins for Blast's SED fitting (SBI++),
which runs for hours. The second one declares artifacts (its posteriors), the first none."""

from blast_tasks import TransientTaskRunner


class SedFitting(TransientTaskRunner):
    task_name = "Global host SED inference"
    compute = "container"
    timeout_seconds = 4 * 3600
    memory_size = 8192
    heartbeat_seconds = 60
    uses_transient_fields = ()

    def _prerequisites(self):
        return {"Host match": "processed"}

    def _run_process(self, transient):
        print(f"fitting the host of {transient.name}")
        return "processed"


class SedFittingWithPosteriors(SedFitting):
    task_name = "Local host SED inference"
    uses_artifacts = True
