"""Turning whatever a check raised into one message for the student.

A :class:`~autograder.expect.CheckFailure` or
:class:`~autograder.submission.StudentCodeError` already carries its message. What the
student's code raised in the worker (:class:`~autograder.probe.client.StudentRaised`) is
described by its type, its message and the innermost line of the student's own files, never by
frames inside the kit or PyTorch; a worker that ended says how.
"""

from __future__ import annotations

from pathlib import Path

from autograder.data.errors import DataError
from autograder.expect import CheckFailure, not_implemented
from autograder.i18n import _
from autograder.probe.client import ProtocolError, RemoteError, StaleRemote, WorkerDied
from autograder.submission import StudentCodeError
from autograder.timeout import CheckTimeout


def _first_line(message: str, limit: int = 1000) -> str:
    """The message's first line; one longer than ``limit`` ends at its last whole sentence (or word) that fits."""
    text = message.strip().splitlines()[0] if message.strip() else ""
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = head.rfind(". ")
    if end > 0:
        return head[: end + 1]
    return (head[: head.rfind(" ")] if " " in head else head) + " (...)"


def where(error: RemoteError):
    """``spiral.py, line 12, in train``: the innermost line of the student's own code (a message), or ``""``."""
    frames = error.frames
    if not frames:
        return ""
    frame = frames[-1]
    return _("{file}, line {line}, in {function}", file=str(frame.get("file")), line=frame.get("line"),
             function=str(frame.get("qualname") or frame.get("name")))


def timeout_message(what, seconds: float | None, error: RemoteError | None = None):
    """What a student reads when a check ran past its limit (``what``: a message naming the check)."""
    location = where(error) if error is not None else ""
    if seconds:
        message = _("{what} was still running after {seconds:g} s, the limit for this check. Look for a loop "
                    "that never ends, or work far beyond what the check asks for.", what=what, seconds=seconds)
    else:
        message = _("{what} was still running, the limit for this check. Look for a loop that never ends, "
                    "or work far beyond what the check asks for.", what=what)
    return _("{message}\n  it was at {location}", message=message, location=location) if location else message


def describe(error: BaseException, student_dir: Path | None = None, check: str = "this check",
             seconds: float | None = None):
    """The student-facing message (an :mod:`autograder.i18n` message) for ``error`` raised while checking
    (``check``: its name)."""
    carried = getattr(error, "message", None)
    if isinstance(error, (CheckFailure, StudentCodeError, DataError, CheckTimeout, ProtocolError, StaleRemote)):
        return carried if carried is not None else str(error)
    if isinstance(error, WorkerDied):
        return _("the grading process {reason} during this check", reason=error.reason)
    if isinstance(error, RemoteError):
        if error.timed_out:
            return timeout_message(_("the check {check}", check=check), seconds, error)
        frames = error.frames
        if error.not_implemented and frames:
            frame = frames[-1]
            return not_implemented(frame.get("qualname") or frame.get("name"), frame.get("file"))
        summary = f"{error.type_name}: {_first_line(error.message)}".rstrip(": ")
        if not frames:
            return summary
        source = frames[-1].get("source") or ""
        if source:
            return _("your code raised {error}\n  at {location}\n    {source}", error=summary,
                     location=where(error), source=source)
        return _("your code raised {error}\n  at {location}", error=summary, location=where(error))
    return f"{type(error).__name__}: {_first_line(str(error))}".rstrip(": ")
