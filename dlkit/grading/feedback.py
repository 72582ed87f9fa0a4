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
from dlkit.grading.outcome import StudentOutcome
from autograder.results import PASSED, total

STATUS_LINES = {
    "graded": "Your submission was graded.",
    "timeout": "Your submission ran out of time; checks that did not finish score zero.",
    "crashed": "The grading process crashed while running your code; checks it could not finish score zero.",
    "out_of_memory": "Your code ran out of memory; checks that could not finish score zero.",
    "invalid_submission": "Your submission could not be opened, so nothing was graded.",
}


def _points(value: float) -> str:
    return f"{value:g}"


def _exercises(outcome: StudentOutcome):
    """(exercise, results) in the order the results list them."""
    return [(name, list(group)) for name, group in groupby(outcome.results, key=lambda r: r.exercise)]


def _failures(outcome: StudentOutcome) -> list[tuple[str, float, float, list[tuple[str, list[str], float]]]]:
    """Per exercise with a failed check: (exercise, earned, possible, [(message, checks, points lost)]).

    Checks that failed with the same message (a missing file, one unfinished function) are listed together.
    """
    report = []
    for name, results in _exercises(outcome):
        groups: dict[str, tuple[list[str], list[float]]] = {}
        for r in results:
            if r.status != PASSED:
                checks, points = groups.setdefault(r.output.strip() or "failed", ([], []))
                checks.append(r.check)
                points.append(r.max_score)
        if groups:
            earned, possible = total(results)
            report.append((name, earned, possible, [(m, c, sum(p)) for m, (c, p) in groups.items()]))
    return report


def feedback_markdown(outcome: StudentOutcome, titles: dict[str, str]) -> str:
    """The Markdown report; ``titles`` maps exercise -> title."""
    lines = [f"# {outcome.week} feedback: {outcome.student}", "",
             f"**Score: {_points(outcome.score)} / {_points(outcome.max_score)}** ({outcome.status})", "",
             STATUS_LINES[outcome.status]]
    if outcome.message:
        lines += ["", f"Note: {outcome.message}"]
    lines += ["", "| exercise | points |", "| --- | --- |"]
    for name, results in _exercises(outcome):
        earned, possible = total(results)
        lines.append(f"| {titles.get(name, name)} | {_points(earned)} / {_points(possible)} |")
    failures = _failures(outcome)
    if failures:
        lines += ["", "## What to fix"]
        for name, earned, possible, groups in failures:
            lines += ["", f"### {titles.get(name, name)} ({_points(earned)} / {_points(possible)})"]
            for message, checks, lost in groups:
                lines += ["", ", ".join(f"`{c}`" for c in checks) + f" (-{_points(lost)}):", "", "```", message, "```"]
    else:
        lines += ["", "Every check passed."]
    if outcome.plots:
        lines += ["", "## Plots from your code"]
        for name, caption in outcome.plots.items():
            lines += ["", f"![{caption}]({name})", "", f"*{caption}*"]
    lines += ["", _provenance_line(outcome), ""]
    return "\n".join(lines)


def _provenance_line(outcome: StudentOutcome) -> str:
    p = outcome.provenance
    if not p:
        return "---\nGraded by dlkit."
    return (f"---\nGraded by dlkit {p.get('kit_version', '')} with PyTorch {p.get('torch_version', '')} on "
            f"{p.get('device', '')} (profile {p.get('profile', '')}); each check's seed is in results.json.")


CSS = """body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
pre{background:#f5f5f5;padding:.6rem;overflow-x:auto;white-space:pre-wrap}.status{font-size:1.2rem}
.fail{color:#a00}.ok{color:#070}figure{margin:1rem 0}figcaption{font-style:italic;font-size:.9rem}"""


def feedback_html(outcome: StudentOutcome, titles: dict[str, str], folder: Path) -> str:
    """The same report as one HTML file, plots embedded from ``folder``."""
    e = html.escape
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{e(outcome.week)} feedback: "
             f"{e(outcome.student)}</title><style>{CSS}</style></head><body>",
             f"<h1>{e(outcome.week)} feedback: {e(outcome.student)}</h1>",
             f"<p class='status'><b>Score: {_points(outcome.score)} / {_points(outcome.max_score)}</b> "
             f"({e(outcome.status)})</p><p>{e(STATUS_LINES[outcome.status])}</p>"]
    if outcome.message:
        parts.append(f"<p>Note: {e(outcome.message)}</p>")
    parts.append("<table><tr><th>exercise</th><th>points</th></tr>")
    for name, results in _exercises(outcome):
        earned, possible = total(results)
        css = "ok" if earned == possible else "fail"
        parts.append(f"<tr><td>{e(titles.get(name, name))}</td>"
                     f"<td class='{css}'>{_points(earned)} / {_points(possible)}</td></tr>")
    parts.append("</table>")
    failures = _failures(outcome)
    if failures:
        parts.append("<h2>What to fix</h2>")
        for name, earned, possible, groups in failures:
            parts.append(f"<h3>{e(titles.get(name, name))} ({_points(earned)} / {_points(possible)})</h3>")
            for message, checks, lost in groups:
                parts.append("<p>" + ", ".join(f"<code>{e(c)}</code>" for c in checks)
                             + f" (-{_points(lost)}):</p><pre>{e(message)}</pre>")
    else:
        parts.append("<p class='ok'>Every check passed.</p>")
    if outcome.plots:
        parts.append("<h2>Plots from your code</h2>")
        for name, caption in outcome.plots.items():
            data = base64.b64encode((folder / name).read_bytes()).decode()
            caption = e(caption)
            parts.append(f"<figure><img alt='{caption}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{caption}</figcaption></figure>")
    parts.append(f"<hr><p><small>{e(_provenance_line(outcome).removeprefix('---').strip())}</small></p>"
                 "</body></html>\n")
    return "\n".join(parts)


def write_feedback(outcome: StudentOutcome, folder: Path, titles: dict[str, str]) -> None:
    """Write ``feedback.md`` and ``feedback.html`` into ``folder`` (which holds the plots)."""
    write_text_atomically(feedback_markdown(outcome, titles), Path(folder) / "feedback.md")
    write_text_atomically(feedback_html(outcome, titles, Path(folder)), Path(folder) / "feedback.html")

