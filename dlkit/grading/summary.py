"""The class summary: ``summary.md``, ``summary.csv`` and ``score_histogram.png``.

The table lists every check with the share of students who failed it, most
failed first, and the message most of them got: the place to look for a
misunderstood exercise (or a broken check).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from autograder.files import write_text_atomically
from dlkit.grading.gradebook import csv_text
from dlkit.grading.outcome import STATUSES, StudentOutcome
from autograder.results import PASSED

HISTOGRAM = "score_histogram.png"


@dataclass(frozen=True)
class CheckSummary:
    """How the class did on one check."""

    check: str
    """``week/exercise/check``."""
    points: float
    """Points the check is worth."""
    failed: int
    """Students who did not pass it."""
    students: int
    """Students in the class."""
    common_message: str
    """First line of the message most failing students got."""

    @property
    def share(self) -> float:
        """Fraction of the class that failed it."""
        return self.failed / self.students if self.students else 0.0


def check_summaries(outcomes: list[StudentOutcome]) -> list[CheckSummary]:
    """One summary per check, most failed first (then by declaration order)."""
    order: dict[str, float] = {}
    failures: dict[str, Counter] = {}
    for outcome in outcomes:
        for result in outcome.results:
            order.setdefault(result.id, result.max_score)
            if result.status != PASSED:
                first_line = (result.output.strip().splitlines() or ["failed"])[0][:120]
                failures.setdefault(result.id, Counter())[first_line] += 1
    rows = []
    for check, points in order.items():
        counter = failures.get(check, Counter())
        message = counter.most_common(1)[0][0] if counter else ""
        rows.append(CheckSummary(check, points, sum(counter.values()), len(outcomes), message))
    position = {check: i for i, check in enumerate(order)}
    return sorted(rows, key=lambda row: (-row.failed, position[row.check]))


def write_histogram(outcomes: list[StudentOutcome], path: Path) -> None:
    """A histogram of total scores (matplotlib's Agg backend; no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    maximum = max((o.max_score for o in outcomes), default=0) or 1
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    try:
        ax.hist([o.score for o in outcomes], bins=min(20, max(1, int(maximum))), range=(0, maximum),
                color="#4a7ab7", edgecolor="white")
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # students come whole
        ax.set(xlabel=f"total score (out of {maximum:g})", ylabel="students",
               title=f"{outcomes[0].week if outcomes else ''} scores, {len(outcomes)} students")
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    finally:
        plt.close(fig)


def summary_markdown(outcomes: list[StudentOutcome], checks: list[CheckSummary], histogram: bool) -> str:
    """``summary.md``: statuses, score statistics, the histogram and the per-check failure table."""
    scores = [o.score for o in outcomes]
    maximum = max((o.max_score for o in outcomes), default=0)
    statuses = Counter(o.status for o in outcomes)
    lines = [f"# {outcomes[0].week if outcomes else ''} class summary", "",
             f"{len(outcomes)} students; " + ", ".join(f"{statuses[s]} {s}" for s in STATUSES if statuses[s]), ""]
    if scores:
        lines += [f"Scores out of {maximum:g}: mean {statistics.fmean(scores):.2f}, "
                  f"median {statistics.median(scores):g}, min {min(scores):g}, max {max(scores):g}", ""]
    if histogram:
        lines += [f"![score histogram]({HISTOGRAM})", ""]
    lines += ["## Checks, most failed first", "", "| check | points | failed | share | most common message |",
              "| --- | --- | --- | --- | --- |"]
    for row in checks:
        message = row.common_message.replace("|", "\\|")
        lines.append(f"| {row.check} | {row.points:g} | {row.failed} / {row.students} | {row.share:.0%} | "
                     f"{message} |")
    not_graded = [o for o in outcomes if o.status != "graded"]
    if not_graded:
        lines += ["", "## Not fully graded", "", "| student | status | message |", "| --- | --- | --- |"]
        lines += [f"| {o.student} | {o.status} | {o.message.replace('|', '/')} |" for o in not_graded]
    return "\n".join(lines) + "\n"


def write_summary(outcomes: list[StudentOutcome], folder: Path) -> None:
    """Write ``summary.md``, ``summary.csv`` and (when there are students) the histogram into ``folder``."""
    folder = Path(folder)
    checks = check_summaries(outcomes)
    if outcomes:
        write_histogram(outcomes, folder / HISTOGRAM)
    write_text_atomically(summary_markdown(outcomes, checks, bool(outcomes)), folder / "summary.md")
    rows = [["check", "points", "failed", "students", "share", "common_message"]]
    rows += [[c.check, f"{c.points:g}", str(c.failed), str(c.students), f"{c.share:.4f}", c.common_message]
             for c in checks]
    write_text_atomically(csv_text(rows), folder / "summary.csv")
