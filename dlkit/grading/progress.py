"""Progress on stderr while a class is graded, and the final table.

On a terminal one line is redrawn (bar, done/total, ETA, who is being graded);
otherwise (a log file, CI) one line is printed per finished student.
"""

from __future__ import annotations

import sys
import threading
import time
import unicodedata
from collections import Counter
from typing import TextIO

from autograder.i18n import _, n_, render
from dlkit.grading.feedback import STATUS_NAMES
from dlkit.grading.outcome import STATUSES, StudentOutcome

BAR = 24


def status_word(status: str) -> str:
    """A row's status as the TA reads it, in the current language (the status itself is data)."""
    return render(STATUS_NAMES.get(status, status))


def width(text: str) -> int:
    """Columns ``text`` takes on a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, columns: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``columns`` terminal columns (on the left with ``right``)."""
    space = " " * max(0, columns - width(text))
    return space + text if right else text + space


def shorten(text: str, columns: int) -> str:
    """``text`` cut to ``columns`` terminal columns, ``...`` marking the cut."""
    if width(text) <= columns:
        return text
    kept, used = [], 0
    for char in text:
        used += width(char)
        if used > columns - 3:
            break
        kept.append(char)
    return "".join(kept) + "..."


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """Thread-safe progress display for one batch."""

    def __init__(self, total: int, already: int = 0, stream: TextIO | None = None, header: str = ""):
        self.stream = stream or sys.stderr
        self.total = total
        self.done = already
        self.skipped = already
        self.running: list[str] = []
        self.started = time.monotonic()
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self.lock = threading.Lock()
        if header:
            self._print(header)
        if already:
            self._print(str(_("{already} of {total} already graded (results.json complete); use --regrade to grade "
                              "them again", already=already, total=total)))

    def _print(self, line: str) -> None:
        if self.interactive:
            self.stream.write("\r\033[K")
        self.stream.write(line + "\n")
        self.stream.flush()

    def eta(self) -> float | None:
        """Seconds left, from the pace of this run; ``None`` before the first student finishes."""
        finished = self.done - self.skipped
        if finished <= 0:
            return None
        return (time.monotonic() - self.started) / finished * (self.total - self.done)

    def _status_line(self) -> str:
        filled = int(BAR * self.done / self.total) if self.total else BAR
        eta = self.eta()
        who = ", ".join(self.running[:3]) + (" ..." if len(self.running) > 3 else "")
        eta_text = _("ETA {eta}", eta=_duration(eta) if eta is not None else "?")
        grading = _("grading {students}", students=who) if who else ""
        return f"[{'#' * filled}{'.' * (BAR - filled)}] {self.done}/{self.total}  {eta_text}" + \
            (f"  {grading}" if who else "")

    def _redraw(self) -> None:
        if self.interactive:
            self.stream.write("\r\033[K" + self._status_line()[:200])
            self.stream.flush()

    def note(self, line: str) -> None:
        """Print ``line`` above the bar (something the TA should know while the run goes on)."""
        with self.lock:
            self._print(line)
            self._redraw()

    def start(self, student: str) -> None:
        """``student``'s grading has begun."""
        with self.lock:
            self.running.append(student)
            self._redraw()

    def finish(self, outcome: StudentOutcome) -> None:
        """``outcome``'s student is done."""
        with self.lock:
            if outcome.student in self.running:
                self.running.remove(outcome.student)
            self.done += 1
            eta = self.eta()
            line = _("{student}: {status}, {score:g}/{max_score:g} in {seconds:.1f} s", student=outcome.student,
                     status=status_word(outcome.status), score=outcome.score, max_score=outcome.max_score,
                     seconds=outcome.seconds)
            left = _("(ETA {eta})", eta=_duration(eta)) if eta is not None and self.done < self.total else ""
            self._print(f"[{self.done:>{len(str(self.total))}}/{self.total}] {line}" + (f"  {left}" if left else ""))
            self._redraw()

    def close(self, outcomes: list[StudentOutcome]) -> None:
        """Clear the bar and print the final table."""
        with self.lock:
            if self.interactive:
                self.stream.write("\r\033[K")
            self.stream.write(final_table(outcomes, time.monotonic() - self.started) + "\n")
            self.stream.flush()


def final_table(outcomes: list[StudentOutcome], seconds: float) -> str:
    """Every student's status and score, then the count per status."""
    outcomes = sorted(outcomes, key=lambda o: o.student)
    student, status, score, message = (str(word) for word in (_("student"), _("status"), _("score"), _("message")))
    columns = max([width(student), *(width(o.student) for o in outcomes)])
    lines = [f"{pad(student, columns)}  {pad(status, 18)}  {pad(score, 11, right=True)}  {message}"]
    for o in outcomes:
        points = f"{o.score:g} / {o.max_score:g}"
        lines.append(f"{pad(o.student, columns)}  {pad(status_word(o.status), 18)}  {points:>11}  "
                     f"{shorten(render(o.message), 70)}")
    counts = Counter(o.status for o in outcomes)
    tally = str(_(", ")).join(str(_("{count} {status}", count=counts[s], status=status_word(s)))
                              for s in STATUSES if counts[s])
    lines.append(str(n_("{n} student in {time}: {tally}", "{n} students in {time}: {tally}", len(outcomes),
                        time=_duration(seconds), tally=tally)))
    return "\n".join(lines)
