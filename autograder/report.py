"""The points table printed at the end of ``pytest autograder``.

Every reason is said once: a data set that could not be read is explained above
the table and its checks say "needs MNIST (see above)"; a long message repeated
within an exercise (a file that does not import, a model that does not build) is
shown at its first check and referred to after.
"""

from __future__ import annotations

import textwrap
from itertools import groupby
from textwrap import indent

from autograder.results import PASSED, PENDING, CheckResult, Provenance, pending_points, total

WIDTH = 72
SHORT_MESSAGE = 80
"""A one-line message up to this long is repeated under each check: a reference would be no shorter."""


def _points(value: float) -> str:
    return f"{value:g}"


def _data_notes(results: list[CheckResult]) -> list[str]:
    """The block above the table for each data set that failed checks need."""
    lines = []
    notes = {r.cause: r.output for r in results if r.status != PASSED and r.cause.startswith("data ")}
    for cause, message in notes.items():
        needing = [r for r in results if r.cause == cause and r.status != PASSED]
        dataset = cause.removeprefix("data ")
        lines += ["", f"{dataset} could not be read, so {len(needing)} check{'s' * (len(needing) != 1)} "
                      f"({_points(sum(r.max_score for r in needing))} points) could not run:",
                  *(textwrap.fill(paragraph, WIDTH, initial_indent="    ", subsequent_indent="    ",
                                  break_on_hyphens=False, break_long_words=False)
                    for paragraph in message.strip().splitlines())]
    return lines


def _message_lines(result: CheckResult, first_with_message: dict[str, str]) -> list[str]:
    """What to print under a failed check: its message, or a pointer to where it was said."""
    if result.cause.startswith("data "):
        return [f"needs {result.cause.removeprefix('data ')} (see above)"]
    message = result.output.strip()
    short = "\n" not in message and len(message) <= SHORT_MESSAGE
    if not short and message in first_with_message:
        return [f"same as {first_with_message[message]} above"]
    first_with_message.setdefault(message, result.check)
    return [message]


def format_table(results: list[CheckResult], provenance: Provenance, titles: dict[str, str]) -> str:
    """One block per exercise (check, earned / possible, and the message of each failure), then the total.

    ``titles`` maps ``week/exercise`` to a readable title.
    """
    lines = [
        f"dlkit {provenance.kit_version} | torch {provenance.torch_version} | device {provenance.device} "
        f"| profile {provenance.profile}",
    ]
    lines += _data_notes(results)
    for (week, exercise), group in groupby(results, key=lambda r: (r.week, r.exercise)):
        group = list(group)
        earned, possible = total(group)
        title = titles.get(f"{week}/{exercise}", exercise)
        header = f"{week} / {title}"
        lines.append("")
        lines.append(f"{header:<{WIDTH - 12}}{_points(earned):>5} / {_points(possible):<5}")
        first_with_message: dict[str, str] = {}
        for r in group:
            mark = {PASSED: "PASS", PENDING: "WAIT"}.get(r.status, "FAIL")
            row = f"  {mark}  {r.check}"
            score = "-" if r.status == PENDING else _points(r.score)
            lines.append(f"{row:<{WIDTH - 12}}{score:>5} / {_points(r.max_score):<5}")
            if r.status != PASSED and r.output:
                lines += [indent(text, " " * 8) for text in _message_lines(r, first_with_message)]
    earned, possible = total(results)
    lines.append("")
    lines.append(f"{'TOTAL':<{WIDTH - 12}}{_points(earned):>5} / {_points(possible):<5}")
    waiting = pending_points(results)
    if waiting:
        lines.append(f"{_points(waiting)} of these points are pending (WAIT): answered here, graded after submission.")
    return "\n".join(lines)
