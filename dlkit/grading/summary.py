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
from autograder.i18n import _, current_language, n_, render
from autograder.results import PASSED
from dlkit.grading.feedback import STATUS_NAMES
from dlkit.grading.gradebook import csv_text
from dlkit.grading.outcome import STATUSES, StudentOutcome

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


def check_summaries(outcomes: list[StudentOutcome], lang: str | None = None) -> list[CheckSummary]:
    """One summary per check, most failed first (then by declaration order); messages in ``lang``."""
    order: dict[str, float] = {}
    failures: dict[str, Counter] = {}
    for outcome in outcomes:
        for result in outcome.results:
            order.setdefault(result.id, result.max_score)
            if result.status != PASSED:
                first_line = (result.text(lang).strip().splitlines() or [render(_("failed"), lang)])[0][:120]
                failures.setdefault(result.id, Counter())[first_line] += 1
    rows = []
    for check, points in order.items():
        counter = failures.get(check, Counter())
        message = counter.most_common(1)[0][0] if counter else ""
        rows.append(CheckSummary(check, points, sum(counter.values()), len(outcomes), message))
    position = {check: i for i, check in enumerate(order)}
    return sorted(rows, key=lambda row: (-row.failed, position[row.check]))


def write_histogram(outcomes: list[StudentOutcome], path: Path) -> None:
    """A histogram of total scores (matplotlib's Agg backend; no display needed), labelled in the current
    language where matplotlib has a font for it (:mod:`autograder.plot_text`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    from autograder.plot_text import label

    maximum = max((o.max_score for o in outcomes), default=0) or 1
    labels = dict(xlabel=label(_("total score (out of {max:g})", max=maximum)), ylabel=label(_("students")),
                  title=label(n_("{week} scores, {n} student", "{week} scores, {n} students", len(outcomes),
                                 week=outcomes[0].week if outcomes else "")))  # before the axes: they fix its font
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    try:
        ax.hist([o.score for o in outcomes], bins=min(20, max(1, int(maximum))), range=(0, maximum),
                color="#4a7ab7", edgecolor="white")
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # students come whole
        ax.set(**labels)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    finally:
        plt.close(fig)


LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
# TRANSLATORS: between the items of a list ("3 graded, 1 timeout")
LIST_SEPARATOR = _(", ")


def summary_markdown(outcomes: list[StudentOutcome], checks: list[CheckSummary], histogram: bool,
                     lang: str | None = None) -> str:
    """``summary.md`` in ``lang``: statuses, score statistics, the histogram and the per-check failure table."""
    lang = lang or current_language()
    t = lambda message: render(message, lang)  # noqa: E731
    scores = [o.score for o in outcomes]
    maximum = max((o.max_score for o in outcomes), default=0)
    statuses = Counter(o.status for o in outcomes)
    week = outcomes[0].week if outcomes else ""
    lines = ["# " + t(_("{week} class summary", week=week)), "",
             t(_("Written in {language}; `dlkit grade` with the same folders and `--lang {other}` rewrites the "
                 "reports in the other language without grading again.", language=LANGUAGE_NAMES[lang],
                 other="en" if lang == "zh" else "zh")), "",
             t(_("{students}; {statuses}", students=n_("{n} student", "{n} students", len(outcomes)),
                 statuses=t(LIST_SEPARATOR).join(t(_("{count} {status}", count=statuses[s], status=STATUS_NAMES[s]))
                                                 for s in STATUSES if statuses[s]))), ""]
    if scores:
        lines += [t(_("Scores out of {max:g}: mean {mean:.2f}, median {median:g}, min {min:g}, max {top:g}",
                      max=maximum, mean=statistics.fmean(scores), median=statistics.median(scores),
                      min=min(scores), top=max(scores))), ""]
    if histogram:
        lines += ["![" + t(_("score histogram")) + f"]({HISTOGRAM})", ""]
    lines += ["## " + t(_("Checks, most failed first")), "",
              "| " + " | ".join(t(h) for h in (_("check"), _("points"), _("failed"), _("share"),
                                                _("most common message"))) + " |",
              "| --- | --- | --- | --- | --- |"]
    for row in checks:
        message = row.common_message.replace("|", "\\|")
        lines.append(f"| {row.check} | {row.points:g} | {row.failed} / {row.students} | {row.share:.0%} | "
                     f"{message} |")
    not_graded = [o for o in outcomes if o.status != "graded"]
    if not_graded:
        lines += ["", "## " + t(_("Not fully graded")), "",
                  "| " + " | ".join(t(h) for h in (_("student"), _("status"), _("message"))) + " |",
                  "| --- | --- | --- |"]
        lines += [f"| {o.student} | {t(STATUS_NAMES[o.status])} | {t(o.message).replace('|', '/')} |"
                  for o in not_graded]
    return "\n".join(lines) + "\n"


def write_summary(outcomes: list[StudentOutcome], folder: Path, lang: str | None = None) -> None:
    """Write ``summary.md``, ``summary.csv`` and (when there are students) the histogram into ``folder``, in
    ``lang`` (default: the current language); the CSV's column names stay English (read by programs)."""
    folder = Path(folder)
    lang = lang or current_language()
    checks = check_summaries(outcomes, lang)
    if outcomes:
        write_histogram(outcomes, folder / HISTOGRAM)
    write_text_atomically(summary_markdown(outcomes, checks, bool(outcomes), lang), folder / "summary.md")
    rows = [["check", "points", "failed", "students", "share", "common_message"]]
    rows += [[c.check, f"{c.points:g}", str(c.failed), str(c.students), f"{c.share:.4f}", c.common_message]
             for c in checks]
    write_text_atomically(csv_text(rows), folder / "summary.csv")
