"""A Python run's context (``self.context``): its attempt and run id, the outputs of earlier tasks, its own output,
and artifacts, as a TypeScript runner's ``context`` has them.

Everything it reads comes in the run's event (the TypeScript worker read it from the runs the registers hold), so
the function needs no table access. Artifacts are written and read here directly: with boto3 under an
``s3://bucket/prefix/`` location (boto3 is in Lambda's Python runtime), as plain files under a directory. What the
run saved and the artifacts it put go back in the handler's reply; the worker records them before it settles, as
for a TypeScript run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from blast_tasks.runner import NonRetryableTaskError

#: As lib/domain/artifacts.ts: '/'-separated parts of letters, digits, '.', '_', '-', each starting with a letter or digit.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")
MAX_NAME_LENGTH = 128
MAX_ARTIFACTS_PER_RUN = 32


class ArtifactError(Exception):
    """An artifact that cannot be put or read: a bad name, too many, no location, bytes not as recorded."""


class ArtifactLimitError(ArtifactError, NonRetryableTaskError):
    """A bad name or one artifact too many: no retry can help, so the failed status is recorded at once."""


class ArtifactNotFoundError(ArtifactError, KeyError):
    """The run asked for holds no artifact of that name."""


@dataclass(frozen=True)
class Artifact:
    """One stored artifact of a run."""

    name: str
    key: str
    size: int
    sha256: str

    def to_event(self) -> Dict[str, Any]:
        return {"name": self.name, "key": self.key, "size": self.size, "sha256": self.sha256}

    @classmethod
    def from_event(cls, data: Mapping[str, Any]) -> "Artifact":
        return cls(name=str(data["name"]), key=str(data["key"]), size=int(data["size"]), sha256=str(data["sha256"]))


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise ArtifactLimitError(f"an artifact name must be a non-empty string, not {name!r}")
    if len(name) > MAX_NAME_LENGTH:
        raise ArtifactLimitError(f'artifact name "{name[:40]}..." is longer than {MAX_NAME_LENGTH} characters')
    if not _NAME.match(name):
        raise ArtifactLimitError(
            f'artifact name "{name}" must be \'/\'-separated parts of letters, digits, ".", "_" and "-", '
            'each starting with a letter or digit (no "..", no leading "/")'
        )
    return name


class _Location:
    """Where artifacts live: an S3 prefix or a directory; keys are relative to it."""

    def __init__(self, location: str):
        self.location = location
        if location.startswith("s3://"):
            bucket, _, prefix = location[len("s3://") :].partition("/")
            if not bucket:
                raise ArtifactError(f'artifact location "{location}" names no bucket')
            self._bucket = bucket
            self._prefix = prefix if prefix == "" or prefix.endswith("/") else prefix + "/"
            self._s3: Any = None
            self._root: Optional[Path] = None
        else:
            self._root = Path(location[len("file://") :] if location.startswith("file://") else location).resolve()

    def _client(self) -> Any:
        if self._s3 is None:
            import boto3  # in Lambda's Python runtime; needed here only for an s3:// location

            self._s3 = boto3.client("s3")
        return self._s3

    def _path(self, key: str) -> Path:
        assert self._root is not None
        path = (self._root / key).resolve()
        if self._root not in path.parents:
            raise ArtifactError(f'key "{key}" leads out of {self._root}')
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        if self._root is None:
            import base64

            digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
            # S3 checks the bytes it received against the checksum.
            self._client().put_object(Bucket=self._bucket, Key=self._prefix + key, Body=data, ContentType=content_type, ChecksumSHA256=digest)
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then renamed into place, as the TypeScript store does.
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)

    def get(self, key: str) -> bytes:
        if self._root is None:
            return self._client().get_object(Bucket=self._bucket, Key=self._prefix + key)["Body"].read()
        return self._path(key).read_bytes()


class Artifacts:
    """``self.context.artifacts``: this run's artifacts, and those of earlier tasks' current runs."""

    def __init__(self, location: Optional[str], prefix: str, upstream: Mapping[str, List[Artifact]], may_put: bool = True, may_read: bool = True):
        self._location = _Location(location) if location else None
        self._prefix = prefix
        self._may_put = may_put
        self._may_read = may_put or may_read
        self._upstream = {task: {artifact.name: artifact for artifact in artifacts} for task, artifacts in upstream.items()}
        self._own: Dict[str, Artifact] = {}

    def _store(self) -> _Location:
        if self._location is None:
            raise ArtifactError("ARTIFACT_LOCATION is not set: artifacts have no place (s3://bucket/prefix/ or a directory)")
        return self._location

    def put(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> Artifact:
        """Stores ``data`` as this run's artifact ``name``; the same name again replaces it."""
        if not self._may_put:
            # The stack grants writes only to runners that declare them: refused here, before S3 would refuse it.
            raise ArtifactLimitError(f'artifact "{name}": this runner does not declare uses_artifacts = True, so its runs may not put artifacts')
        validate_name(name)
        if name not in self._own and len(self._own) >= MAX_ARTIFACTS_PER_RUN:
            raise ArtifactLimitError(f'a run may put at most {MAX_ARTIFACTS_PER_RUN} artifacts; "{name}" would be one more')
        if isinstance(data, str):
            raise ArtifactLimitError(f'artifact "{name}": data must be bytes (encode text first)')
        data = bytes(data)
        key = self._prefix + name
        self._store().put(key, data, content_type)
        artifact = Artifact(name=name, key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())
        self._own[name] = artifact
        return artifact

    def _of(self, task: Optional[str]) -> Mapping[str, Artifact]:
        if task is not None:
            self.check_read(f"the artifacts of {task!r}")
        return self._own if task is None else self._upstream.get(task, {})

    def check_read(self, what: str) -> None:
        """Refuses, as the stack's grants would, a read this runner does not declare."""
        if not self._may_read:
            raise ArtifactLimitError(f"{what}: this runner declares neither reads_artifacts = True nor uses_artifacts = True, so its runs may not read artifacts")

    def get(self, name: str, task: Optional[str] = None) -> bytes:
        """The bytes of artifact ``name``: this run's, or with ``task``, those of the run that task's register holds."""
        artifact = self._of(task).get(name)
        if artifact is None:
            holder = "this run" if task is None else f"the current run of {task!r}"
            raise ArtifactNotFoundError(f'no artifact "{name}" in {holder}')
        return read(self._store(), artifact)

    def list(self, task: Optional[str] = None) -> List[Artifact]:
        """This run's artifacts, or with ``task``, those of the run that task's register holds."""
        return list(self._of(task).values())

    def reported(self) -> List[Dict[str, Any]]:
        return [artifact.to_event() for artifact in self._own.values()]


def read(location: _Location, artifact: Artifact) -> bytes:
    """The bytes of a recorded artifact, checked against its recorded size and SHA-256."""
    data = location.get(artifact.key)
    if len(data) != artifact.size or hashlib.sha256(data).hexdigest() != artifact.sha256:
        raise ArtifactError(f'artifact "{artifact.name}" at {artifact.key} is not what its run recorded')
    return data


class RunContext:
    """``self.context`` inside ``_run_process``."""

    def __init__(self, event: Mapping[str, Any], location: Optional[str] = None, may_put: bool = True, may_read: bool = True):
        self.attempt: int = int(event.get("attempt", 1))
        self.run_id: str = str(event.get("runId", ""))
        places = event.get("artifacts") or {}
        self._location = location or places.get("location")
        upstream = {task: [Artifact.from_event(item) for item in items] for task, items in (places.get("upstream") or {}).items()}
        self.artifacts = Artifacts(self._location, str(places.get("prefix", "")), upstream, may_put, may_read)
        self._outputs: Mapping[str, Mapping[str, Any]] = event.get("outputs") or {}
        self._saved: Optional[Dict[str, Any]] = None

    def save(self, data: Dict[str, Any]) -> None:
        """This run's output, read by later tasks; a later save replaces an earlier one."""
        if not isinstance(data, dict):
            raise TypeError(f"save takes a dict, not {type(data).__name__}")
        json.dumps(data)  # fails here, in the runner, if it is not JSON
        self._saved = dict(data)

    def output(self, task: str) -> Optional[Dict[str, Any]]:
        """What ``task`` saved, in the run its register holds; None if it saved nothing."""
        found = self._outputs.get(task)
        if found is None:
            return None
        if "spilled" in found:
            self.artifacts.check_read(f"the output of {task!r}, too large for an item, is an artifact")
            return json.loads(read(self.artifacts._store(), Artifact.from_event(found["spilled"])).decode("utf-8"))
        return found.get("data")

    def reply(self, status: str) -> Dict[str, Any]:
        """The handler's reply: the status, and what the run saved and put."""
        reply: Dict[str, Any] = {"status": status}
        if self._saved is not None:
            reply["output"] = self._saved
        artifacts = self.artifacts.reported()
        if artifacts:
            reply["artifacts"] = artifacts
        return reply
