"""Turning whatever a check raised into one message for the student.

A :class:`~autograder.expect.CheckFailure` or
:class:`~autograder.submission.StudentCodeError` already carries its message.
Anything else that escaped the student's code is described by its type, its
message and the innermost line of the student's own files, never by frames
inside the kit or PyTorch.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from autograder.data.errors import DataError
from autograder.expect import CheckFailure
from autograder.submission import StudentCodeError
from autograder.timeout import CheckTimeout


def _student_frames(tb, student_dir: Path) -> list[traceback.FrameSummary]:
    root = student_dir.resolve()
    frames = []
    for frame in traceback.extract_tb(tb):
        path = Path(frame.filename)
        if path.is_absolute() and path.resolve().is_relative_to(root):
            frames.append(frame)
    return frames


def _qualified_name(tb, frame: traceback.FrameSummary) -> str:
    """``Class.method`` for the code of ``frame`` (Python 3.11+), else its plain name."""
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == frame.filename and tb.tb_lineno == frame.lineno and code.co_name == frame.name:
            return getattr(code, "co_qualname", code.co_name)
        tb = tb.tb_next
    return frame.name


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


def describe(error: BaseException, student_dir: Path) -> str:
    """The student-facing message for ``error`` raised while checking ``student_dir``."""
    if isinstance(error, (CheckFailure, StudentCodeError, DataError)):
        return str(error)
    if isinstance(error, CheckTimeout):
        frames = _student_frames(error.__traceback__, student_dir)
        where = f"\n  it was at {Path(frames[-1].filename).name}, line {frames[-1].lineno}, in {frames[-1].name}" if frames else ""
        return f"{error}{where}"
    frames = _student_frames(error.__traceback__, student_dir)
    if isinstance(error, NotImplementedError) and frames:
        frame = frames[-1]
        return f"not implemented yet: {_qualified_name(error.__traceback__, frame)} in {Path(frame.filename).name}"
    summary = f"{type(error).__name__}: {_first_line(str(error))}".rstrip(": ")
    if not frames:
        return summary
    frame = frames[-1]
    location = f"{Path(frame.filename).name}, line {frame.lineno}, in {_qualified_name(error.__traceback__, frame)}"
    source = f"\n    {frame.line.strip()}" if frame.line else ""
    return f"your code raised {summary}\n  at {location}{source}"
