"""Finding and importing the modules a student wrote, one file at a time.

A file that is missing, does not parse or fails on import becomes a
:class:`StudentCodeError` whose message names the file and line; the other
files of the submission are still loaded and checked.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType

from autograder.settings import KIT_ROOT

REFERENCE_ROOT = KIT_ROOT / "solutions"


class StudentCodeError(Exception):
    """A student file could not be imported; the message is meant for the student."""


def _describe_import_error(error: BaseException, path: Path) -> str:
    if isinstance(error, SyntaxError):
        line = (error.text or "").rstrip("\n")
        caret = ""
        if line and error.offset:
            stripped = line.lstrip()
            caret = "\n    " + " " * max(0, error.offset - 1 - (len(line) - len(stripped))) + "^"
            line = stripped
        where = f"{path.name}, line {error.lineno}"
        return f"{where}: {type(error).__name__}: {error.msg}" + (f"\n    {line}{caret}" if line else "")
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename) == path]
    where = f" ({path.name}, line {frames[-1].lineno})" if frames else ""
    return f"importing {path.name} failed: {type(error).__name__}: {error}{where}"


class Submission:
    """The files of one week in one submission folder, imported on demand."""

    def __init__(self, root: Path, week: str, label: str = "submission"):
        self.root = Path(root)
        self.week = week
        self.folder = self.root / week
        self.label = label
        self._modules: dict[str, ModuleType | StudentCodeError] = {}

    def path(self, stem: str) -> Path:
        """Where the file ``<stem>.py`` is expected."""
        return self.folder / f"{stem}.py"

    def load(self, stem: str) -> ModuleType:
        """Import ``<week>/<stem>.py`` once; raise :class:`StudentCodeError` if it cannot be."""
        if stem not in self._modules:
            try:
                self._modules[stem] = self._import(stem)
            except StudentCodeError as error:
                self._modules[stem] = error
        result = self._modules[stem]
        if isinstance(result, StudentCodeError):
            raise result
        return result

    def _import(self, stem: str) -> ModuleType:
        path = self.path(stem)
        if not path.is_file():
            raise StudentCodeError(f"{path.name} is missing: expected it at {path}")
        module_name = f"_dlkit_{self.label}_{self.week}_{stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as error:  # student code may raise anything, even SystemExit
            del sys.modules[module_name]
            raise StudentCodeError(_describe_import_error(error, path)) from None
        return module


def student_files(root: Path) -> list[Path]:
    """Every ``.py`` file under a submission folder, resolved (for traceback filtering)."""
    return [p.resolve() for p in Path(root).rglob("*.py")]
