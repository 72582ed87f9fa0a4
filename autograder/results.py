"""The result of a grading run, and its Gradescope ``results.json`` form."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from autograder.files import write_text_atomically
from autograder.i18n import FirstLine, _, current_language, from_data, n_, render, to_data

PASSED, FAILED, PENDING = "passed", "failed", "pending"
"""A check's status. ``PENDING``: decided only by ``dlkit grade`` (a multiple-choice answer in a
student's handout, which holds no key): no points yet, and no failure either."""


@dataclass
class CheckResult:
    """The outcome of one check."""

    week: str
    """Week folder, e.g. ``"week1"``."""
    exercise: str
    """Exercise name (the student file's stem)."""
    check: str
    """Check name."""
    max_score: float
    """Points the check is worth."""
    score: float
    """Points earned: ``max_score`` when passed, else 0."""
    status: str
    """``"passed"``, ``"failed"`` or ``"pending"``."""
    output: str
    """Message for the student, rendered in the run's language: empty when passed; what happens to the
    points when pending."""
    seed: int
    """Seed the check ran with."""
    visibility: str = "visible"
    """Gradescope visibility."""
    cause: str = ""
    """A failure this check shares with others, said once in reports: ``"module tensor_ops.py"`` (the
    student's file could not run), ``"data MNIST"`` (a data set is missing or damaged); empty for a
    check's own failure. ``output`` still holds the whole message."""
    message: Any = None
    """``output`` as an :mod:`autograder.i18n` message (``None``: only the text is known), so a report
    can show it in the other language without grading again."""

    def text(self, lang: str | None = None) -> str:
        """The message in ``lang`` (``output`` itself when the message is not known as data)."""
        return self.output if self.message is None else render(self.message, lang)

    @property
    def id(self) -> str:
        """``week/exercise/check``."""
        return f"{self.week}/{self.exercise}/{self.check}"


@dataclass
class Provenance:
    """What produced a set of results, so a run can be repeated."""

    kit_version: str
    """dlkit version."""
    torch_version: str
    """PyTorch version."""
    python_version: str
    """Python version."""
    device: str
    """``cpu`` or ``cuda``."""
    device_name: str
    """CPU architecture or GPU model."""
    profile: str
    """Budget profile: ``quick`` or ``full``."""
    threads: int
    """PyTorch CPU threads."""
    seeds: dict[str, int] = field(default_factory=dict)
    """Seed per check id."""
    class_seed: int | None = None
    """The class seed every check's seed was derived from (``dlkit grade``), or ``None``."""


def current_provenance(device: str, profile: str, threads: int, class_seed: int | None = None) -> Provenance:
    """Provenance for this process."""
    import torch

    from autograder import __version__

    name = torch.cuda.get_device_name() if device == "cuda" else platform.machine()
    return Provenance(__version__, torch.__version__, platform.python_version(), device, name, profile, threads,
                      class_seed=class_seed)


def _message_of(result: CheckResult):
    return result.message if result.message is not None else result.output


def shared_causes(results: list[CheckResult]) -> list:
    """One message per cause shared by failed checks (see :attr:`CheckResult.cause`), in order of first
    appearance: "tensor_ops.py stopped the program at import (sys.exit(0) at line 2): none of its 9 checks
    could run", "MNIST could not be read: 6 checks (10 points) need it"."""
    sentences = []
    causes = list(dict.fromkeys(r.cause for r in results if r.cause and r.status != PASSED))
    for cause in causes:
        hit = [r for r in results if r.cause == cause and r.status != PASSED]
        first_line = FirstLine(_message_of(hit[0])) if hit[0].output.strip() else cause
        kind, _sep, subject = cause.partition(" ")
        if kind == "module":
            of_file = len({(r.week, r.exercise, r.check) for r in results if r.exercise == hit[0].exercise})
            count = n_("none of its {n} checks could run", "none of its {n} checks could run", of_file) \
                if len(hit) == of_file else \
                n_("{failed} of its {n} check could not run", "{failed} of its {n} checks could not run", of_file,
                   failed=len(hit))
            sentences.append(_("{first_line}: {count}", first_line=first_line, count=count))
        else:
            points = sum(r.max_score for r in hit)
            sentences.append(n_("{subject} could not be read: {n} check ({points:g} points) needs it",
                                "{subject} could not be read: {n} checks ({points:g} points) need it", len(hit),
                                subject=subject, points=points))
    return sentences


def total(results: list[CheckResult]) -> tuple[float, float]:
    """(points earned, points possible); pending points count as possible, not earned."""
    return sum(r.score for r in results), sum(r.max_score for r in results)


def pending_points(results: list[CheckResult]) -> float:
    """Points of the checks only ``dlkit grade`` decides (see :data:`PENDING`)."""
    return sum(r.max_score for r in results if r.status == PENDING)


def gradescope_json(results: list[CheckResult], provenance: Provenance, lang: str | None = None) -> dict:
    """Gradescope's ``results.json`` schema, messages in ``lang`` (default: the current language), with the
    kit's provenance and the language under ``extra_data``."""
    lang = lang or current_language()
    earned, possible = total(results)
    provenance = Provenance(**{**asdict(provenance), "seeds": {r.id: r.seed for r in results}})
    return {
        "score": earned,
        "max_score": possible,
        "tests": [_test_json(r, lang) for r in results],
        "extra_data": {"dlkit": asdict(provenance), "pending_points": pending_points(results), "language": lang},
    }


def _test_json(result: CheckResult, lang: str) -> dict:
    test = {"name": result.id, "score": result.score, "max_score": result.max_score, "status": result.status,
            "output": result.text(lang), "visibility": result.visibility}
    if result.status == PENDING:  # Gradescope knows passed and failed only
        del test["status"]
        test["extra_data"] = {"pending": True}
    if result.cause:
        test.setdefault("extra_data", {})["cause"] = result.cause
    if result.message is not None and result.output:
        test.setdefault("extra_data", {})["message"] = to_data(result.message)
    return test


def write_json_atomically(data: dict, path: Path) -> None:
    """Write ``data`` as indented JSON to ``path`` so that a reader never sees half a file."""
    write_text_atomically(json.dumps(data, indent=2) + "\n", path)


def read_results(path: Path) -> tuple[list[CheckResult], dict]:
    """Read a results.json written by :func:`gradescope_json`: (results, provenance dict)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    provenance = data.get("extra_data", {}).get("dlkit", {})
    seeds = provenance.get("seeds", {})
    results = []
    for test in data["tests"]:
        week, exercise, check = test["name"].split("/", 2)
        extra = test.get("extra_data") or {}
        status = PENDING if extra.get("pending") else test["status"]
        message = from_data(extra["message"]) if "message" in extra else None
        results.append(CheckResult(week, exercise, check, test["max_score"], test["score"], status,
                                   test["output"], seeds.get(test["name"], 0), test.get("visibility", "visible"),
                                   extra.get("cause", ""), message))
    return results, provenance
