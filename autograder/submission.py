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
from typing import Callable

from autograder.settings import KIT_ROOT
from autograder.timeout import CheckTimeout

REFERENCE_ROOT = KIT_ROOT / "solutions"

import_listeners: list[Callable[[str, str], None]] = []
"""Called with (file name, ``"start"`` or ``"end"``) around each import of a student file: batch
grading records them, so a process that dies during an import is known to have died there."""


class StudentCodeError(Exception):
    """A student file could not be imported; the message is meant for the student.

    Its first line says in one sentence what happened (``tensor_ops.py stopped the program at import
    (sys.exit(0) at line 2)``); lines after it show the code where that helps.
    """

    def __init__(self, message: str, file: str):
        super().__init__(message)
        self.file = file
        """The file's name, e.g. ``tensor_ops.py``."""


TOP_LEVEL_HINT = ("Hint: code outside functions runs as soon as the file is imported, before any check; "
                  "keep loops, training and exits inside functions (or under `if __name__ == \"__main__\":`).")


def _line_in(error: BaseException, path: Path) -> traceback.FrameSummary | None:
    """The innermost frame of ``error``'s traceback that is in ``path``."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename) == path]
    return frames[-1] if frames else None


def _describe_import_error(error: BaseException, path: Path) -> str:
    name = path.name
    if isinstance(error, SyntaxError):
        line = (error.text or "").rstrip("\n")
        caret = ""
        if line and error.offset:
            stripped = line.lstrip()
            caret = "\n    " + " " * max(0, error.offset - 1 - (len(line) - len(stripped))) + "^"
            line = stripped
        kind = "a syntax error" if type(error) is SyntaxError else f"an {type(error).__name__}"
        summary = f"{name} has {kind} at line {error.lineno} ({error.msg})"
        return summary + (f"\n    {line}{caret}" if line else "")
    frame = _line_in(error, path)
    at = f" at line {frame.lineno}" if frame else ""
    if isinstance(error, SystemExit):
        call = frame.line.strip() if frame and frame.line and len(frame.line.strip()) <= 60 else \
            f"sys.exit({'' if error.code is None else repr(error.code)})"
        return f"{name} stopped the program at import ({call}{at})\n{TOP_LEVEL_HINT}"
    if isinstance(error, CheckTimeout):
        return (f"{name} was still running at import after {error.seconds:g} s, the limit for one check "
                f"(it was at line {frame.lineno if frame else '?'}: a loop that never ends?)\n{TOP_LEVEL_HINT}")
    return f"importing {name} failed{at}: {type(error).__name__}: {error}"


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
            raise StudentCodeError(f"{path.name} is missing: expected it at {path}", path.name)
        module_name = f"_dlkit_{self.label}_{self.week}_{stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        listeners = import_listeners if self.root != REFERENCE_ROOT else []
        for listener in listeners:
            listener(path.name, "start")
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit, CheckTimeout) as error:  # student code may raise anything, even SystemExit
            del sys.modules[module_name]
            raise StudentCodeError(_describe_import_error(error, path), path.name) from None
        finally:
            for listener in listeners:
                listener(path.name, "end")
        return module


def student_files(root: Path) -> list[Path]:
    """Every ``.py`` file under a submission folder, resolved (for traceback filtering)."""
    return [p.resolve() for p in Path(root).rglob("*.py")]
