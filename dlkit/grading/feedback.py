"""Per-student feedback a student can read offline: ``feedback.md`` and a self-contained ``feedback.html``.

Both list the status, the points per exercise, each failed check's message and
the plots the grading child made from the student's own code (the HTML embeds
them, so it is one file to send).
"""

from __future__ import annotations

import base64
import html
from itertools import groupby
from pathlib import Path

from autograder.files import write_text_atomically
from autograder.i18n import _, current_language, render
from autograder.report import title_of
from autograder.results import PASSED, total
from dlkit.grading.outcome import StudentOutcome

STATUS_LINES = {
    "graded": _("Your submission was graded."),
    "timeout": _("Your submission ran out of time; checks that did not finish score zero."),
    "crashed": _("The grading process crashed while running your code; checks it could not finish score zero."),
    "out_of_memory": _("Your code ran out of memory; checks that could not finish score zero."),
    "invalid_submission": _("Your submission could not be opened, so nothing was graded."),
}
STATUS_NAMES = {
    "graded": _("graded"),
    "timeout": _("timeout"),
    "crashed": _("crashed"),
    "out_of_memory": _("out of memory"),
    "invalid_submission": _("invalid submission"),
}


EXERCISE, POINTS = _("exercise"), _("points")
WHAT_TO_FIX, PLOTS, ALL_PASSED = _("What to fix"), _("Plots from your code"), _("Every check passed.")


def _points(value: float) -> str:
    return f"{value:g}"


def _exercises(outcome: StudentOutcome):
    """(exercise, results) in the order the results list them."""
    return [(name, list(group)) for name, group in groupby(outcome.results, key=lambda r: r.exercise)]


def _failures(outcome: StudentOutcome, lang: str) -> list[tuple[str, float, float, list[tuple[str, list[str], float]]]]:
    """Per exercise with a failed check: (exercise, earned, possible, [(message, checks, points lost)]).

    Checks that failed with the same message (a missing file, one unfinished function) are listed together.
    """
    report = []
    for name, results in _exercises(outcome):
        groups: dict[str, tuple[list[str], list[float]]] = {}
        for r in results:
            if r.status != PASSED:
                checks, points = groups.setdefault(r.text(lang).strip() or render(_("failed"), lang), ([], []))
                checks.append(r.check)
                points.append(r.max_score)
        if groups:
            earned, possible = total(results)
            report.append((name, earned, possible, [(m, c, sum(p)) for m, (c, p) in groups.items()]))
    return report


def _heading(outcome: StudentOutcome, lang: str) -> str:
    return render(_("{week} feedback: {student}", week=outcome.week, student=outcome.student), lang)


def _score_line(outcome: StudentOutcome, lang: str) -> str:
    return render(_("Score: {score} / {max}", score=_points(outcome.score), max=_points(outcome.max_score)), lang)


def feedback_markdown(outcome: StudentOutcome, titles: dict[str, str], lang: str | None = None) -> str:
    """The Markdown report in ``lang`` (default: the current language); ``titles`` maps exercise -> title."""
    lang = lang or current_language()
    t = lambda message: render(message, lang)  # noqa: E731
    lines = [f"# {_heading(outcome, lang)}", "",
             f"**{_score_line(outcome, lang)}** ({t(STATUS_NAMES[outcome.status])})", "",
             t(STATUS_LINES[outcome.status])]
    if outcome.message:
        lines += ["", t(_("Note: {message}", message=outcome.message))]
    lines += ["", f"| {t(EXERCISE)} | {t(POINTS)} |", "| --- | --- |"]
    for name, results in _exercises(outcome):
        earned, possible = total(results)
        lines.append(f"| {title_of(titles, name, name, lang)} | {_points(earned)} / {_points(possible)} |")
    failures = _failures(outcome, lang)
    if failures:
        lines += ["", f"## {t(WHAT_TO_FIX)}"]
        for name, earned, possible, groups in failures:
            lines += ["", f"### {title_of(titles, name, name, lang)} ({_points(earned)} / {_points(possible)})"]
            for message, checks, lost in groups:
                lines += ["", ", ".join(f"`{c}`" for c in checks) + f" (-{_points(lost)}):", "", "```", message, "```"]
    else:
        lines += ["", t(ALL_PASSED)]
    if outcome.plots:
        lines += ["", f"## {t(PLOTS)}"]
        for name, caption in outcome.plots.items():
            lines += ["", f"![{t(caption)}]({name})", "", f"*{t(caption)}*"]
    lines += ["", "---", _provenance_line(outcome, lang), ""]
    return "\n".join(lines)


def _provenance_line(outcome: StudentOutcome, lang: str) -> str:
    p = outcome.provenance
    if not p:
        return render(_("Graded by dlkit."), lang)
    return render(_("Graded by dlkit {kit} with PyTorch {torch} on {device} (profile {profile}); each check's "
                    "seed is in results.json.", kit=p.get("kit_version", ""), torch=p.get("torch_version", ""),
                    device=p.get("device", ""), profile=p.get("profile", "")), lang)


CSS = """body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
pre{background:#f5f5f5;padding:.6rem;overflow-x:auto;white-space:pre-wrap}.status{font-size:1.2rem}
.fail{color:#a00}.ok{color:#070}figure{margin:1rem 0}figcaption{font-style:italic;font-size:.9rem}"""


def feedback_html(outcome: StudentOutcome, titles: dict[str, str], folder: Path, lang: str | None = None) -> str:
    """The same report as one HTML file, plots embedded from ``folder``."""
    lang = lang or current_language()
    e = html.escape
    t = lambda message: e(render(message, lang))  # noqa: E731
    parts = [f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>"
             f"{e(_heading(outcome, lang))}</title><style>{CSS}</style></head><body>",
             f"<h1>{e(_heading(outcome, lang))}</h1>",
             f"<p class='status'><b>{e(_score_line(outcome, lang))}</b> "
             f"({t(STATUS_NAMES[outcome.status])})</p><p>{t(STATUS_LINES[outcome.status])}</p>"]
    if outcome.message:
        parts.append("<p>" + t(_("Note: {message}", message=outcome.message)) + "</p>")
    parts.append(f"<table><tr><th>{t(EXERCISE)}</th><th>{t(POINTS)}</th></tr>")
    for name, results in _exercises(outcome):
        earned, possible = total(results)
        css = "ok" if earned == possible else "fail"
        parts.append(f"<tr><td>{e(title_of(titles, name, name, lang))}</td>"
                     f"<td class='{css}'>{_points(earned)} / {_points(possible)}</td></tr>")
    parts.append("</table>")
    failures = _failures(outcome, lang)
    if failures:
        parts.append(f"<h2>{t(WHAT_TO_FIX)}</h2>")
        for name, earned, possible, groups in failures:
            parts.append(f"<h3>{e(title_of(titles, name, name, lang))} ({_points(earned)} / {_points(possible)})</h3>")
            for message, checks, lost in groups:
                parts.append("<p>" + ", ".join(f"<code>{e(c)}</code>" for c in checks)
                             + f" (-{_points(lost)}):</p><pre>{e(message)}</pre>")
    else:
        parts.append(f"<p class='ok'>{t(ALL_PASSED)}</p>")
    if outcome.plots:
        parts.append(f"<h2>{t(PLOTS)}</h2>")
        for name, caption in outcome.plots.items():
            data = base64.b64encode((folder / name).read_bytes()).decode()
            caption = t(caption)
            parts.append(f"<figure><img alt='{caption}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{caption}</figcaption></figure>")
    parts.append(f"<hr><p><small>{e(_provenance_line(outcome, lang))}</small></p></body></html>\n")
    return "\n".join(parts)


def write_feedback(outcome: StudentOutcome, folder: Path, titles: dict[str, str], lang: str | None = None) -> None:
    """Write ``feedback.md`` and ``feedback.html`` into ``folder`` (which holds the plots), in ``lang``."""
    write_text_atomically(feedback_markdown(outcome, titles, lang), Path(folder) / "feedback.md")
    write_text_atomically(feedback_html(outcome, titles, Path(folder), lang), Path(folder) / "feedback.html")

