"""Prints, as JSON, what the runner classes of Python files declare.

``python -m blast_tasks.describe FILE...`` writes a list with one entry per transient runner class each file
defines: its task, prerequisites, failed status and settings, read from the class itself, or the problem that
stopped them being read, naming the file and the class. The TypeScript side validates them with every other
runner (lib/python/declarations.ts).
"""

from __future__ import annotations

import json
import sys
from typing import Any, Dict, List

from blast_tasks.loading import RunnerFileError, load_module, runner_classes

SETTINGS = {
    "task_frequency_seconds": "frequencySeconds",
    "task_initially_enabled": "initiallyEnabled",
    "memory_size": "memorySize",
    "timeout_seconds": "timeoutSeconds",
    "max_receive_count": "maxReceiveCount",
    "max_concurrency": "maxConcurrency",
    "compute": "compute",
    "heartbeat_seconds": "heartbeatSeconds",
    "uses_transient_fields": "usesTransientFields",
    "uses_artifacts": "usesArtifacts",
    "reads_artifacts": "readsArtifacts",
    "version": "version",
}


def _json(value: Any) -> Any:
    """A setting as JSON has it (a tuple or set of fields as a list)."""
    return sorted(value) if isinstance(value, (tuple, set, frozenset)) else value


def _declaration(path: str, cls: type) -> Dict[str, Any]:
    where = {"file": path, "className": cls.__name__}
    try:
        runner = cls()
        task_name = runner.task_name
        prerequisites = runner._prerequisites()
        failed = runner._failed_status_message()
    except Exception as error:  # the class's own error, reported with its file and name
        return {**where, "problem": f"{type(error).__name__}: {error}"}
    if not isinstance(task_name, str):
        return {**where, "problem": f"task_name is {type(task_name).__name__}, not a string"}
    if not isinstance(prerequisites, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in prerequisites.items()):
        return {**where, "problem": "_prerequisites() must return a dict of task name to status message (strings)"}
    if not isinstance(failed, str):
        return {**where, "problem": f"_failed_status_message() returned {type(failed).__name__}, not a string"}
    # Only what the class itself sets: the others keep the framework's defaults.
    own = [klass for klass in cls.__mro__ if klass.__module__ != "blast_tasks.runner" and klass is not object]
    settings = {name: _json(getattr(runner, attribute)) for attribute, name in SETTINGS.items() if any(attribute in vars(klass) for klass in own)}
    return {**where, "taskName": task_name, "prerequisites": prerequisites, "failedStatusMessage": failed, "settings": settings}


def describe(paths: List[str]) -> List[Dict[str, Any]]:
    entries: List[Dict[str, Any]] = []
    for path in paths:
        try:
            classes = runner_classes(load_module(path))
        except RunnerFileError as error:
            entries.append({"file": path, "problem": str(error)})
            continue
        if not classes:
            entries.append({"file": path, "problem": "defines no TransientTaskRunner class"})
        entries.extend(_declaration(path, cls) for cls in classes)
    return entries


if __name__ == "__main__":
    json.dump(describe(sys.argv[1:]), sys.stdout)
