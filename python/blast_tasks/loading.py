"""Finding the runner classes of a Python file."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import List, Type

from blast_tasks.runner import TransientTaskRunner


class RunnerFileError(Exception):
    """A runner file that cannot be imported, or a class it does not define."""


def load_module(path: str) -> ModuleType:
    """Imports a runner file by its path (its folder first on the import path, for its own helpers)."""
    file = Path(path).resolve()
    if not file.is_file():
        raise RunnerFileError(f"{path}: no such file")
    folder = str(file.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = f"blast_runner_{file.stem}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise RunnerFileError(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the file's own error, whatever it is, named with the file
        raise RunnerFileError(f"{path}: importing it raised {type(error).__name__}: {error}") from error
    return module


def runner_classes(module: ModuleType) -> List[Type[TransientTaskRunner]]:
    """The transient runner classes the module itself defines, in the order written."""
    found = [
        value
        for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, TransientTaskRunner) and value.__module__ == module.__name__
    ]
    return sorted(found, key=lambda cls: inspect.getsourcelines(cls)[1])


def load_runner(path: str, class_name: str) -> TransientTaskRunner:
    """An instance of the named runner class of a file."""
    module = load_module(path)
    cls = getattr(module, class_name, None)
    if not (inspect.isclass(cls) and issubclass(cls, TransientTaskRunner)):
        raise RunnerFileError(f"{path}: defines no transient runner class {class_name}")
    return cls()
