"""The points table printed at the end of ``pytest autograder``."""

from __future__ import annotations

from itertools import groupby
from textwrap import indent

from autograder.results import PASSED, CheckResult, Provenance, total

WIDTH = 72


def _points(value: float) -> str:
    return f"{value:g}"


def format_table(results: list[CheckResult], provenance: Provenance, titles: dict[str, str]) -> str:
    """One block per exercise (check, earned / possible, and the message of each failure), then the total.

    ``titles`` maps ``week/exercise`` to a readable title.
    """
    lines = [
        f"dlkit {provenance.kit_version} | torch {provenance.torch_version} | device {provenance.device} "
        f"| profile {provenance.profile}",
    ]
    for (week, exercise), group in groupby(results, key=lambda r: (r.week, r.exercise)):
        group = list(group)
        earned, possible = total(group)
        title = titles.get(f"{week}/{exercise}", exercise)
        header = f"{week} / {title}"
        lines.append("")
        lines.append(f"{header:<{WIDTH - 12}}{_points(earned):>5} / {_points(possible):<5}")
        for r in group:
            mark = "PASS" if r.status == PASSED else "FAIL"
            row = f"  {mark}  {r.check}"
            lines.append(f"{row:<{WIDTH - 12}}{_points(r.score):>5} / {_points(r.max_score):<5}")
            if r.status != PASSED and r.output:
                lines.append(indent(r.output, " " * 8))
    earned, possible = total(results)
    lines.append("")
    lines.append(f"{'TOTAL':<{WIDTH - 12}}{_points(earned):>5} / {_points(possible):<5}")
    return "\n".join(lines)
