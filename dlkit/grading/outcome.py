"""One student's grading outcome, and its ``results.json``.

The file is Gradescope's ``results.json`` (see :func:`autograder.results.gradescope_json`)
with every declared check of the week listed, plus a top-level ``output`` (the
row's message, which Gradescope shows the student) and the batch's own record
under ``extra_data.dlkit_grading``. It is written last for a student, atomically,
so its presence means the student is done: a resumed run skips them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.i18n import current_language, from_data, render, to_data
from autograder.results import FAILED, CheckResult, Provenance, gradescope_json, read_results, total, write_json_atomically

GRADED = "graded"
TIMEOUT = "timeout"
CRASHED = "crashed"
OUT_OF_MEMORY = "out_of_memory"
INVALID_SUBMISSION = "invalid_submission"
STATUSES = (GRADED, TIMEOUT, CRASHED, OUT_OF_MEMORY, INVALID_SUBMISSION)
"""Every row's status, from "the checks ran" to "nothing could be run"."""

GRADING_KEY = "dlkit_grading"


@dataclass
class StudentOutcome:
    """What grading one student's submission produced."""

    student: str
    """Student id: the folder or zip name in the class folder."""
    week: str
    """Week graded, e.g. ``"week1"``."""
    status: str
    """One of :data:`STATUSES`."""
    message: object
    """One line for the gradebook and the student: what happened, what was missing (an
    :mod:`autograder.i18n` message, or plain text)."""
    results: list[CheckResult]
    """Every declared check of the week, in declaration order; unrun checks score 0."""
    provenance: dict = field(default_factory=dict)
    """The child's :class:`~autograder.results.Provenance` as a dict (empty if it never started)."""
    source_sha256: str = ""
    """Fingerprint of the submission as found, so a changed resubmission is graded again."""
    missing_files: list[str] = field(default_factory=list)
    """Declared files of the week that the submission lacks."""
    plots: dict[str, str] = field(default_factory=dict)
    """PNG file name (saved beside ``results.json``) -> caption, for the feedback."""
    seconds: float = 0.0
    """Wall-clock seconds spent grading (all attempts)."""
    attempts: int = 0
    """Child processes started (more than one when a crash left checks to run)."""
    settings: dict = field(default_factory=dict)
    """Limits and options the student was graded under (timeout, memory, device, isolation ...)."""
    language: str = "en"
    """The language ``results.json``'s and the feedback's texts were last written in."""
    retry: bool = False
    """The grading machinery failed this student, not their code (every Dask worker that took the submission
    was lost): the next run grades them again without ``--regrade``."""

    @property
    def score(self) -> float:
        """Points earned."""
        return total(self.results)[0]

    @property
    def max_score(self) -> float:
        """Points possible."""
        return total(self.results)[1]


def not_run(week: str, exercise: str, check: str, points: float, visibility: str, reason,
            cause: str = "") -> CheckResult:
    """A failed, zero-score result for a check that did not run (or did not finish), saying why (a message);
    seed 0: none used."""
    return CheckResult(week, exercise, check, points, 0.0, FAILED, render(reason), 0, visibility, cause,
                       None if isinstance(reason, str) else reason)


def to_json(outcome: StudentOutcome, lang: str | None = None) -> dict:
    """The outcome as Gradescope JSON plus the batch record, its texts in ``lang`` (default: the current
    language); the messages are kept as data too, so :func:`rerender` can write them in the other language."""
    lang = lang or current_language()
    provenance = Provenance(**outcome.provenance) if outcome.provenance else _empty_provenance(outcome)
    data = gradescope_json(outcome.results, provenance, lang)
    data["output"] = render(outcome.message, lang)
    data["execution_time"] = round(outcome.seconds, 2)
    record = {name: getattr(outcome, name) for name in StudentOutcome.__dataclass_fields__
              if name not in ("results", "provenance")}
    record["message"] = to_data(outcome.message)
    record["plots"] = {name: to_data(caption) for name, caption in outcome.plots.items()}
    record["language"] = lang
    data["extra_data"][GRADING_KEY] = record
    return data


def _empty_provenance(outcome: StudentOutcome) -> Provenance:
    device = outcome.settings.get("device", "")
    return Provenance("", "", "", device, "", outcome.settings.get("profile", ""), 0)


def write(outcome: StudentOutcome, path: Path, lang: str | None = None) -> None:
    """Write the outcome's ``results.json`` atomically, its texts in ``lang`` (default: the current language)."""
    outcome.language = lang or current_language()
    write_json_atomically(to_json(outcome, outcome.language), path)


def read(path: Path) -> StudentOutcome | None:
    """The outcome stored at ``path``, or ``None`` when the file is missing or not one of ours."""
    try:
        results, provenance = read_results(path)
        record = json.loads(Path(path).read_text(encoding="utf-8"))["extra_data"][GRADING_KEY]
        known = {k: v for k, v in record.items() if k in StudentOutcome.__dataclass_fields__}
        known["message"] = from_data(known.get("message", ""))
        known["plots"] = {name: from_data(caption) for name, caption in (known.get("plots") or {}).items()}
        outcome = StudentOutcome(results=results, provenance=_provenance_fields(provenance), **known)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return outcome if outcome.status in STATUSES else None


def _provenance_fields(provenance: dict) -> dict:
    if not provenance.get("kit_version"):
        return {}
    return {k: v for k, v in provenance.items() if k in Provenance.__dataclass_fields__}
