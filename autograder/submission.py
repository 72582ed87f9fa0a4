"""A student's files, as the checks see them: modules that live in the worker.

``Submission(client, root, week).load("spiral")`` imports ``<root>/<week>/spiral.py`` in the
worker (once) and returns a :class:`StudentModule`, a :class:`~autograder.probe.client.Remote`
that also knows its file. A file that is missing, does not parse, fails at import, stops the
program or loops there becomes a :class:`StudentCodeError` whose first line says what happened in
one sentence, naming the file and line; the other files of the submission are still checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autograder.probe.client import ImportFailed, Remote, WorkerClient
from autograder.timeout import CheckTimeout


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


def _at(info: dict) -> tuple[str, dict | None]:
    frames = info.get("frames") or []
    frame = frames[-1] if frames else None
    return (f" at line {frame['line']}" if frame else ""), frame


def import_error_message(info: dict, path: Path) -> str:
    """The student-facing message for a failed import, from the worker's description of it."""
    name = path.name
    kind = info.get("kind")
    if kind == "missing":
        return f"{name} is missing: expected it at {path}"
    if kind == "died":
        return f"importing {name} {info.get('reason', 'ended the grading process')}\n{TOP_LEVEL_HINT}"
    if kind == "timeout" or info.get("timeout"):
        seconds = info.get("seconds")
        _, frame = _at(info)
        where = f"it was at line {frame['line']}" if frame else "it never returned"
        limit = f" after {seconds:g} s" if isinstance(seconds, (int, float)) else ""
        return (f"{name} was still running at import{limit}, the limit for one check ({where}: a loop that "
                f"never ends?)\n{TOP_LEVEL_HINT}")
    syntax = info.get("syntax")
    if isinstance(syntax, dict):
        line = (syntax.get("text") or "").rstrip("\n")
        caret = ""
        offset = syntax.get("offset")
        if line and isinstance(offset, int) and offset:
            stripped = line.lstrip()
            caret = "\n    " + " " * max(0, offset - 1 - (len(line) - len(stripped))) + "^"
            line = stripped
        error_type = info.get("type", "SyntaxError")
        what = "a syntax error" if error_type == "SyntaxError" else f"an {error_type}"
        summary = f"{name} has {what} at line {syntax.get('line')} ({syntax.get('msg')})"
        return summary + (f"\n    {line}{caret}" if line else "")
    at, frame = _at(info)
    if info.get("type") == "SystemExit":
        code = info.get("exit")
        source = (frame or {}).get("source", "")
        call = source if source and len(source) <= 60 else f"sys.exit({'' if code is None else repr(code)})"
        return f"{name} stopped the program at import ({call}{at})\n{TOP_LEVEL_HINT}"
    return f"importing {name} failed{at}: {info.get('type', 'Exception')}: {info.get('message', '')}"


class StudentModule(Remote):
    """A student's module in the worker, with the path of its file (read here only as text)."""

    __slots__ = ("_path",)

    @property
    def path(self) -> Path:
        return self._path


class Submission:
    """The files of one week of one submission, imported in the worker on demand."""

    def __init__(self, client: WorkerClient, root: Path, week: str):
        self.client = client
        self.root = Path(root)
        self.week = week
        self.folder = self.root / week

    def path(self, stem: str) -> Path:
        """Where the file ``<stem>.py`` is expected."""
        return self.folder / f"{stem}.py"

    def load(self, stem: str) -> StudentModule:
        """The student's ``<week>/<stem>.py`` in the worker; :class:`StudentCodeError` if it cannot be imported."""
        path = self.path(stem)
        try:
            remote = self.client.student(path.name)
        except ImportFailed as error:
            raise StudentCodeError(import_error_message(error.info, path), path.name) from None
        except CheckTimeout:  # the import never returned, not even to the worker's own timer
            raise StudentCodeError(import_error_message(self.client.failed_imports[path.name], path),
                                   path.name) from None
        module = StudentModule.__new__(StudentModule)
        for name in Remote.__slots__:
            object.__setattr__(module, name, object.__getattribute__(remote, name))
        object.__setattr__(module, "_path", path)
        return module


def source_of(module: Any) -> Path | None:
    """The file a :class:`StudentModule` was imported from (``None`` for anything else)."""
    return module.path if isinstance(module, StudentModule) else None
