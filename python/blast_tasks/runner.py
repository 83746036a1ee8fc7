"""The runner base classes and the transient they receive."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

if TYPE_CHECKING:
    from blast_tasks.context import RunContext


@dataclass(frozen=True)
class Transient:
    """A transient as Blast's model names its fields."""

    name: str
    ra_deg: float
    dec_deg: float
    public_timestamp: str
    redshift: Optional[float] = None
    spectroscopic_class: Optional[str] = None

    @classmethod
    def from_event(cls, data: Mapping[str, Any]) -> "Transient":
        """The transient of an event, whose fields the engine writes in camelCase."""
        return cls(
            name=str(data["name"]),
            ra_deg=float(data["raDeg"]),
            dec_deg=float(data["decDeg"]),
            public_timestamp=str(data["publicTimestamp"]),
            redshift=None if data.get("redshift") is None else float(data["redshift"]),
            spectroscopic_class=data.get("spectroscopicClass"),
        )


class NonRetryableTaskError(Exception):
    """Raised by ``_run_process`` for a failure no retry can fix: the failed status is recorded at once."""


class TaskRunner(ABC):
    """What every runner declares: its task, and the settings Blast's ``TaskRunner`` gives defaults for."""

    #: Blast: ``task_frequency_seconds``; a whole number of minutes.
    task_frequency_seconds: int = 60
    #: Blast: ``task_initially_enabled``.
    task_initially_enabled: bool = True
    #: Lambda memory in MB.
    memory_size: int = 512
    #: Seconds one run may take.
    timeout_seconds: int = 60

    @property
    @abstractmethod
    def task_name(self) -> str:
        """The task this runner works on, as named in the task fixtures."""


class TransientTaskRunner(TaskRunner):
    """A runner for one task of one transient at a time.

    Inside ``_run_process``, ``self.context`` (blast_tasks.context.RunContext) is the run's: ``attempt``, ``run_id``,
    ``save(data)``, ``output(task)`` and ``artifacts.put/get/list``.
    """

    #: Set by the handler before each run.
    context: "RunContext"

    #: Deliveries before a message goes to the dead-letter queue; exceptions are retried until then.
    max_receive_count: int = 3
    #: Most concurrent runs.
    max_concurrency: int = 10
    #: The transient's fields this task reads ("coordinates", "redshift"): a change of one resets the task and what
    #: follows it. Left out, both.
    uses_transient_fields: Sequence[str] = ("coordinates", "redshift")
    #: Whether ``_run_process`` puts artifacts (``self.context.artifacts.put``) or saves an output too large for an
    #: item. Only runners that declare it may write artifacts (the stack grants only them), and read them.
    uses_artifacts: bool = False
    #: Whether ``_run_process`` reads earlier tasks' artifacts (``artifacts.get/list(task=...)``) or an earlier
    #: task's output too large for an item. Only runners that declare it (or ``uses_artifacts``) may read them.
    reads_artifacts: bool = False
    #: The task's version, recorded with every run (a result of another version is stale). Left out: the hash of
    #: the runner's file, read by ``npm run generate``.
    version: Optional[str] = None

    @abstractmethod
    def _prerequisites(self) -> Mapping[str, str]:
        """Task name -> the status it must have for this task to run (the task's own "not processed" is implied)."""

    def _failed_status_message(self) -> str:
        """The status recorded when ``_run_process`` raises on its last attempt (an error-type status)."""
        return "failed"

    @abstractmethod
    def _run_process(self, transient: Transient) -> str:
        """Processes one transient and returns a status message of the status fixtures."""


class SystemTaskRunner(TaskRunner):
    """A runner for work that belongs to no transient. Declared here for Blast's API; runs in TypeScript only."""

    @abstractmethod
    def run_process(self) -> None:
        """Does the runner's work."""
