"""``gradebook.csv``: one row per student, ``student,total,max,status``, points per exercise, the message, and the
language the message is written in (the column names stay English: programs read them)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from autograder.files import write_text_atomically
from autograder.i18n import current_language, render
from dlkit.grading.outcome import StudentOutcome
from autograder.results import total


def _points(value: float) -> str:
    return f"{value:g}"


def gradebook_rows(outcomes: list[StudentOutcome], exercises: list[str], lang: str | None = None) -> list[list[str]]:
    """Header and one row per student (sorted by id); exercise columns hold points earned; messages in ``lang``."""
    lang = lang or current_language()
    rows = [["student", "total", "max", "status", *exercises, "message", "language"]]
    for outcome in sorted(outcomes, key=lambda o: o.student):
        earned = [_points(total([r for r in outcome.results if r.exercise == name])[0]) for name in exercises]
        rows.append([outcome.student, _points(outcome.score), _points(outcome.max_score), outcome.status, *earned,
                     render(outcome.message, lang), lang])
    return rows


def csv_text(rows: list[list[str]]) -> str:
    """``rows`` as CSV text."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def write_gradebook(outcomes: list[StudentOutcome], exercises: list[str], path: Path, lang: str | None = None) -> None:
    """Write ``gradebook.csv`` atomically."""
    write_text_atomically(csv_text(gradebook_rows(outcomes, exercises, lang)), path)
