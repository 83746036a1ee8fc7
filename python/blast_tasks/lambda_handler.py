"""A Python runner's function: the same handler in AWS Lambda and in the local runtime (blast_tasks.serve).

The TypeScript worker has claimed the task; this runs ``_run_process`` on the event's transient and returns
the status message, which the worker checks and settles, with what the run saved and the artifacts it put. An
exception is the run's failure, reported as Lambda reports one (``errorType``, ``errorMessage``); the worker retries
it or records the failed status, at once for a ``NonRetryableTaskError``.
The runner is named by ``BLAST_RUNNER_FILE`` and ``BLAST_RUNNER_CLASS``.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional

from blast_tasks.context import RunContext
from blast_tasks.loading import load_runner
from blast_tasks.runner import NonRetryableTaskError, Transient, TransientTaskRunner

_runner: Optional[TransientTaskRunner] = None


def _loaded() -> TransientTaskRunner:
    global _runner
    if _runner is None:
        _runner = load_runner(os.environ["BLAST_RUNNER_FILE"], os.environ["BLAST_RUNNER_CLASS"])
    return _runner


def handler(event: Mapping[str, Any], context: Any = None) -> Dict[str, Any]:
    """Runs one transient: ``{"transient": {...}, "attempt": n, "runId": "...", "outputs"?, "artifacts"?}`` ->
    ``{"status": "...", "output"?: {...}, "artifacts"?: [...]}``.

    The runner's ``self.context`` is set for the run (blast_tasks.context.RunContext): the outputs and artifacts of
    earlier tasks come in the event; artifacts go to ARTIFACT_LOCATION under the run's prefix.
    """
    runner = _loaded()
    run = RunContext(event, os.environ.get("ARTIFACT_LOCATION"), may_put=bool(runner.uses_artifacts), may_read=bool(runner.reads_artifacts))
    runner.context = run
    try:
        status = runner._run_process(Transient.from_event(event["transient"]))
    except NonRetryableTaskError as error:
        if type(error) is NonRetryableTaskError:
            raise
        # Lambda reports an error by its class's name: a subclass is reported as the base the engine knows, named in the message.
        raise NonRetryableTaskError(f"{type(error).__name__}: {error}") from error
    return run.reply(status)
