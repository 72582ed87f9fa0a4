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
from autograder.expect import CheckFailure
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
    return head[: head.rfind(" ")] + " (message shortened)" if " " in head else head + " (message shortened)"


def where(error: RemoteError) -> str:
    """``spiral.py, line 12, in train``: the innermost line of the student's own code, or ``""``."""
    frames = error.frames
    if not frames:
        return ""
    frame = frames[-1]
    return f"{frame.get('file')}, line {frame.get('line')}, in {frame.get('qualname') or frame.get('name')}"


def timeout_message(what: str, seconds: float | None, error: RemoteError | None = None) -> str:
    """What a student reads when a check ran past its limit."""
    limit = f" after {seconds:g} s" if seconds else ""
    message = (f"{what} was still running{limit}, the limit for this check. Look for a loop that never ends, "
               "or work far beyond what the check asks for.")
    location = where(error) if error is not None else ""
    return message + (f"\n  it was at {location}" if location else "")


def describe(error: BaseException, student_dir: Path | None = None, check: str = "this check",
             seconds: float | None = None) -> str:
    """The student-facing message for ``error`` raised while checking (``check``: its name)."""
    if isinstance(error, (CheckFailure, StudentCodeError, DataError)):
        return str(error)
    if isinstance(error, CheckTimeout):
        return str(error)
    if isinstance(error, WorkerDied):
        return f"the grading process {error.reason} during this check"
    if isinstance(error, (ProtocolError, StaleRemote)):
        return str(error)
    if isinstance(error, RemoteError):
        if error.timed_out:
            return timeout_message(f"the check {check}", seconds, error)
        frames = error.frames
        if error.not_implemented and frames:
            frame = frames[-1]
            return f"not implemented yet: {frame.get('qualname') or frame.get('name')} in {frame.get('file')}"
        summary = f"{error.type_name}: {_first_line(error.message)}".rstrip(": ")
        if not frames:
            return summary
        source = frames[-1].get("source") or ""
        return f"your code raised {summary}\n  at {where(error)}" + (f"\n    {source}" if source else "")
    return f"{type(error).__name__}: {_first_line(str(error))}".rstrip(": ")
