"""The kit's corpus of submissions: realistic mistakes and partial solutions, by name.

Every entry is built from the reference (or the release) by the test module that owns it, so the
corpus follows the reference as it changes. ``build_corpus`` puts each entry in its own folder;
``verdicts.json`` records which checks each entry passed with the kit before the trust boundary
(grading inside the student's process), and the grading tests compare today's verdicts with it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.support import ASSIGNMENTS, SOLUTIONS, patched_week

VERDICTS = Path(__file__).with_name("verdicts.json")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "class"


def _mistakes() -> dict[str, tuple[str, str, list[tuple[str, str]]]]:
    """name -> (week, file, patches) for every text-patched mistake of the grading tests."""
    from tests.week1.test_week1_grading import MISTAKES as WEEK1
    from tests.week2.test_cifar10_grading import MISTAKES as CIFAR10
    from tests.week2.test_mnist_grading import MISTAKES as MNIST
    from tests.week2.test_questions_grading import MISTAKES as QUESTIONS
    from tests.week2.test_residual_grading import MISTAKES as RESIDUAL
    from tests.week2.test_vgg_grading import VARIANTS as VGG

    entries = {f"week1/{name}": ("week1", file, patches) for name, (file, patches) in WEEK1.items()}
    entries |= {f"week2/mnist/{name}": ("week2", "mnist.py", patches) for name, (_, patches) in MNIST.items()}
    entries |= {f"week2/cifar10/{name}": ("week2", "cifar10.py", p) for name, (_, p) in CIFAR10.items()}
    entries |= {f"week2/residual/{name}": ("week2", "residual.py", p) for name, (_, p) in RESIDUAL.items()}
    entries |= {f"week2/vgg/{name}": ("week2", "vgg.py", patches) for name, patches in VGG.items()}
    entries |= {f"week2/questions/{name}": ("week2", "questions.py", p) for name, p in QUESTIONS.items()}
    return entries


def build_corpus(root: Path) -> dict[str, tuple[str, Path]]:
    """Every corpus entry as ``name -> (week, submission folder)``, built under ``root``."""
    corpus: dict[str, tuple[str, Path]] = {}
    for week in ("week1", "week2"):
        corpus[f"{week}/reference"] = (week, SOLUTIONS)
        corpus[f"{week}/release"] = (week, ASSIGNMENTS)
    for name, (week, file, patches) in _mistakes().items():
        corpus[name] = (week, patched_week(week, file, patches, root / name.replace("/", "_")))
    for student in sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()):  # the sample class's partial work
        folder = root / f"example_{student}"
        shutil.copytree(EXAMPLES / student, folder)
        corpus[f"week1/example_{student}"] = ("week1", folder)
    return corpus


def recorded_verdicts() -> dict[str, dict[str, str]]:
    """Entry name -> check id -> ``"passed"``/``"failed"``, as recorded in ``verdicts.json``."""
    return json.loads(VERDICTS.read_text())["verdicts"]


def verdicts(results: dict) -> dict[str, str]:
    """Check id -> status, from a Gradescope results.json."""
    return {test["name"]: test["status"] for test in results["tests"]}


def changed_verdicts(entry: str, results: dict) -> dict[str, tuple[str, str]]:
    """Check id -> (recorded, now) for every check of ``results`` whose verdict differs from the record."""
    before = recorded_verdicts()[entry]
    now = verdicts(results)
    return {check: (before[check], status) for check, status in now.items()
            if check in before and before[check] != status}


CHANGED_ON_PURPOSE: dict[str, dict[str, str]] = {}
"""Entry -> check id -> why its verdict differs from the record. Empty: moving every check to a
probe in the worker and a verdict in the grading process changed no verdict on the corpus
(docs/trust-boundary.md says so, and lists any entry added here)."""


def assert_verdicts_as_recorded(graded: dict[str, dict], entries: dict[str, str]) -> None:
    """Each ``graded[name]`` (a results.json) has the recorded verdict for every check it ran, but
    for the changes listed in :data:`CHANGED_ON_PURPOSE`; ``entries`` maps ``name`` to its corpus entry."""
    changed = {}
    for name, entry in entries.items():
        differences = changed_verdicts(entry, graded[name])
        unexplained = {check: was for check, was in differences.items()
                       if check not in CHANGED_ON_PURPOSE.get(entry, {})}
        if unexplained:
            changed[entry] = unexplained
    assert changed == {}, f"verdicts changed from the record (recorded, now): {changed}"
