"""Progress on stderr while a class is graded, and the final table.

On a terminal one line is redrawn (bar, done/total, ETA, who is being graded);
otherwise (a log file, CI) one line is printed per finished student.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from typing import TextIO

from dlkit.grading.outcome import STATUSES, StudentOutcome

BAR = 24


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
            self._print(f"{already} of {total} already graded (results.json complete); use --regrade to grade "
                        "them again")

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
        return (f"[{'#' * filled}{'.' * (BAR - filled)}] {self.done}/{self.total}"
                f"  ETA {_duration(eta) if eta is not None else '?'}" + (f"  grading {who}" if who else ""))

    def _redraw(self) -> None:
        if self.interactive:
            self.stream.write("\r\033[K" + self._status_line()[:200])
            self.stream.flush()

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
            self._print(f"[{self.done:>{len(str(self.total))}}/{self.total}] {outcome.student}: {outcome.status}, "
                        f"{outcome.score:g}/{outcome.max_score:g} in {outcome.seconds:.1f} s"
                        + (f"  (ETA {_duration(eta)})" if eta is not None and self.done < self.total else ""))
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
    width = max([len("student"), *(len(o.student) for o in outcomes)])
    lines = [f"{'student':<{width}}  {'status':<18}  {'score':>11}  message"]
    for o in outcomes:
        score = f"{o.score:g} / {o.max_score:g}"
        message = o.message if len(o.message) <= 70 else o.message[:67] + "..."
        lines.append(f"{o.student:<{width}}  {o.status:<18}  {score:>11}  {message}")
    counts = Counter(o.status for o in outcomes)
    lines.append(f"{len(outcomes)} students in {_duration(seconds)}: "
                 + ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]))
    return "\n".join(lines)
