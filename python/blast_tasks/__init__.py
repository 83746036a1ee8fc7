"""Blast's task runners in Python, as Blast's docs write them.

A transient runner declares the seed's four members: ``task_name``, ``_prerequisites()``,
``_failed_status_message()`` and ``_run_process(transient)``, which returns a status message. Only
``_run_process`` runs here: claiming, settling, chaining, retries and dead letters stay in the TypeScript
engine, which calls it through the runner's own function (lambda_handler.handler) with the same event in AWS
and locally.
"""

from blast_tasks.context import Artifact, ArtifactError, ArtifactNotFoundError, RunContext
from blast_tasks.runner import NonRetryableTaskError, SystemTaskRunner, TaskRunner, Transient, TransientTaskRunner

__all__ = [
    "Artifact",
    "ArtifactError",
    "ArtifactNotFoundError",
    "NonRetryableTaskError",
    "RunContext",
    "SystemTaskRunner",
    "TaskRunner",
    "Transient",
    "TransientTaskRunner",
]
