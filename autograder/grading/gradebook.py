"""``gradebook.csv``: one row per student, ``student,total,max,status``, points per exercise, then the message."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

from autograder.grading.outcome import StudentOutcome
from autograder.results import total


def _points(value: float) -> str:
    return f"{value:g}"


def gradebook_rows(outcomes: list[StudentOutcome], exercises: list[str]) -> list[list[str]]:
    """Header and one row per student (sorted by id); exercise columns hold points earned."""
    rows = [["student", "total", "max", "status", *exercises, "message"]]
    for outcome in sorted(outcomes, key=lambda o: o.student):
        earned = [_points(total([r for r in outcome.results if r.exercise == name])[0]) for name in exercises]
        rows.append([outcome.student, _points(outcome.score), _points(outcome.max_score), outcome.status, *earned,
                     outcome.message])
    return rows


def write_text_atomically(text: str, path: Path) -> None:
    """Write ``text`` to ``path`` so that a reader (or a killed run) never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def csv_text(rows: list[list[str]]) -> str:
    """``rows`` as CSV text."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def write_gradebook(outcomes: list[StudentOutcome], exercises: list[str], path: Path) -> None:
    """Write ``gradebook.csv`` atomically."""
    write_text_atomically(csv_text(gradebook_rows(outcomes, exercises)), path)
