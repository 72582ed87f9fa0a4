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

from autograder.i18n import Text, _, current_language, display_width, n_, pad, render
from autograder.results import FAILED, PASSED, PENDING, CheckResult, Provenance, pending_points, total

WIDTH = 72
SHORT_MESSAGE = 80
"""A one-line message up to this long is repeated under each check: a reference would be no shorter."""


def _points(value: float) -> str:
    return f"{value:g}"


def _wrap(paragraph: str, width: int, prefix: str) -> str:
    """``paragraph`` wrapped at ``width`` columns; Chinese, which has no spaces to break at, as it is."""
    if display_width(paragraph) != len(paragraph):
        return prefix + paragraph
    return textwrap.fill(paragraph, width, initial_indent=prefix, subsequent_indent=prefix,
                         break_on_hyphens=False, break_long_words=False)


def _data_notes(results: list[CheckResult], lang: str) -> list[str]:
    """The block above the table for each data set that failed checks need."""
    lines = []
    notes = {r.cause: r.text(lang) for r in results if r.status != PASSED and r.cause.startswith("data ")}
    for cause, message in notes.items():
        needing = [r for r in results if r.cause == cause and r.status != PASSED]
        dataset = cause.removeprefix("data ")
        heading = n_("{dataset} could not be read, so {n} check ({points} points) could not run:",
                     "{dataset} could not be read, so {n} checks ({points} points) could not run:", len(needing),
                     dataset=dataset, points=_points(sum(r.max_score for r in needing)))
        lines += ["", render(heading, lang),
                  *(_wrap(paragraph, WIDTH, "    ") for paragraph in message.strip().splitlines())]
    return lines


def _message_lines(result: CheckResult, first_with_message: dict[str, str], lang: str) -> list[str]:
    """What to print under a failed check: its message, or a pointer to where it was said."""
    if result.cause.startswith("data "):
        return [render(_("needs {dataset} (see above)", dataset=result.cause.removeprefix("data ")), lang)]
    message = result.text(lang).strip()
    short = "\n" not in message and display_width(message) <= SHORT_MESSAGE
    if not short and message in first_with_message:
        return [render(_("same as {check} above", check=first_with_message[message]), lang)]
    first_with_message.setdefault(message, result.check)
    return [message]


def title_of(titles: dict[str, str], key: str, default: str, lang: str) -> str:
    """An exercise's title from exercises.toml in ``lang`` (the titles are message ids)."""
    return render(Text(titles[key]), lang) if key in titles else default


def format_table(results: list[CheckResult], provenance: Provenance, titles: dict[str, str],
                 lang: str | None = None) -> str:
    """One block per exercise (check, earned / possible, and the message of each failure), then the total,
    in ``lang`` (default: the current language).

    ``titles`` maps ``week/exercise`` to a readable title.
    """
    lang = lang or current_language()
    marks = {status: render(mark, lang) for status, mark in ((PASSED, _("PASS")), (PENDING, _("WAIT")),
                                                             (FAILED, _("FAIL")))}
    mark_width = max(map(display_width, marks.values()))
    marks = {status: pad(mark, mark_width) for status, mark in marks.items()}
    lines = [render(_("dlkit {kit} | torch {torch} | device {device} | profile {profile}",
                      kit=provenance.kit_version, torch=provenance.torch_version, device=provenance.device,
                      profile=provenance.profile), lang)]
    lines += _data_notes(results, lang)
    for (week, exercise), group in groupby(results, key=lambda r: (r.week, r.exercise)):
        group = list(group)
        earned, possible = total(group)
        header = f"{week} / {title_of(titles, f'{week}/{exercise}', exercise, lang)}"
        lines.append("")
        lines.append(f"{pad(header, WIDTH - 12)}{_points(earned):>5} / {_points(possible):<5}")
        first_with_message: dict[str, str] = {}
        for r in group:
            row = f"  {marks.get(r.status, marks[FAILED])}  {r.check}"
            score = "-" if r.status == PENDING else _points(r.score)
            lines.append(f"{pad(row, WIDTH - 12)}{score:>5} / {_points(r.max_score):<5}")
            if r.status != PASSED and r.output:
                lines += [indent(text, " " * 8) for text in _message_lines(r, first_with_message, lang)]
    earned, possible = total(results)
    lines.append("")
    total_label = render(_("TOTAL"), lang)
    lines.append(f"{pad(total_label, WIDTH - 12)}{_points(earned):>5} / {_points(possible):<5}")
    waiting = pending_points(results)
    if waiting:
        lines.append(render(_("{points} of these points are pending ({mark}): answered here, graded after "
                              "submission.", points=_points(waiting), mark=marks[PENDING].strip()), lang))
    return "\n".join(lines)
