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

from autograder.i18n import Said, _, join
from autograder.probe.client import ImportFailed, Remote, WorkerClient
from autograder.timeout import CheckTimeout


class StudentCodeError(Said, Exception):
    """A student file could not be imported; ``message`` (an :mod:`autograder.i18n` message) is meant
    for the student.

    Its first line says in one sentence what happened (``tensor_ops.py stopped the program at import
    (sys.exit(0) at line 2)``); lines after it show the code where that helps.
    """

    def __init__(self, message, file: str):
        super().__init__(message, file)
        self.file = file
        """The file's name, e.g. ``tensor_ops.py``."""


TOP_LEVEL_HINT = _("Hint: code outside functions runs as soon as the file is imported, before any check; "
                   "keep loops, training and exits inside functions (or under `if __name__ == \"__main__\":`).")


def _last_frame(info: dict) -> dict | None:
    frames = info.get("frames") or []
    return frames[-1] if frames else None


def _with_hint(message):
    return join([message, TOP_LEVEL_HINT], "\n")


def import_error_message(info: dict, path: Path):
    """The student-facing message (an :mod:`autograder.i18n` message) for a failed import, from the
    worker's description of it."""
    name = path.name
    kind = info.get("kind")
    if kind == "missing":
        return _("{file} is missing: expected it at {path}", file=name, path=str(path))
    if kind == "died":
        reason = info.get("why") or info.get("reason")
        if reason:
            return _with_hint(_("importing {file} {reason}", file=name, reason=reason))
        return _with_hint(_("importing {file} ended the grading process", file=name))
    if kind == "timeout" or info.get("timeout"):
        seconds = info.get("seconds")
        frame = _last_frame(info)
        where = _("it was at line {line}", line=frame["line"]) if frame else _("it never returned")
        if isinstance(seconds, (int, float)):
            return _with_hint(_("{file} was still running at import after {seconds:g} s, the limit for one check "
                                "({where}: a loop that never ends?)", file=name, seconds=seconds, where=where))
        return _with_hint(_("{file} was still running at import, the limit for one check "
                            "({where}: a loop that never ends?)", file=name, where=where))
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
        values = dict(file=name, line=syntax.get("line"), error=str(syntax.get("msg")))
        if error_type == "SyntaxError":
            summary = _("{file} has a syntax error at line {line} ({error})", **values)
        else:
            summary = _("{file} has an {type} at line {line} ({error})", type=error_type, **values)
        return join([summary, f"    {line}{caret}" if line else ""], "\n")
    frame = _last_frame(info)
    if info.get("type") == "SystemExit":
        code = info.get("exit")
        source = (frame or {}).get("source", "")
        call = source if source and len(source) <= 60 else f"sys.exit({'' if code is None else repr(code)})"
        if frame:
            return _with_hint(_("{file} stopped the program at import ({call} at line {line})", file=name,
                                call=call, line=frame["line"]))
        return _with_hint(_("{file} stopped the program at import ({call})", file=name, call=call))
    error = f"{info.get('type', 'Exception')}: {info.get('message', '')}"
    if frame:
        return _("importing {file} failed at line {line}: {error}", file=name, line=frame["line"], error=error)
    return _("importing {file} failed: {error}", file=name, error=error)


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
