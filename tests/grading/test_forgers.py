"""The forgers' class (tests/grading/forgers.py), graded with ``dlkit grade``: every forgery scores 0, the
honest submission beside them keeps full marks, and nothing outside a worker's own folder changed."""

from __future__ import annotations

import json

import pytest

from autograder.spec import load_spec
from tests.grading.forgers import FORGERIES, build_forgers_class
from tests.grading.grading_classes import WEEK, grade_command, read_gradebook, read_student

MAX = sum(check.points for exercise in load_spec()[WEEK].values() for check in exercise.checks.values())
NEED_SANDBOX = {"imports_reference", "reads_others", "lingers"}
"""Forgeries that reach for files outside the worker: only the sandbox (namespaces) keeps those out of sight."""


@pytest.fixture(scope="module")
def forged(session_tmp):
    root = build_forgers_class(session_tmp / "forgers")
    out, tmp = session_tmp / "forgers_out", session_tmp / "forgers_tmp"
    tmp.mkdir()
    proc = grade_command(root, out, "--jobs", "2", tmp=tmp)
    assert proc.returncode == 0, proc.stderr
    return root, out


def test_the_honest_student_keeps_full_marks(forged):
    row = read_gradebook(forged[1])["honest"]
    assert (row["total"], row["status"]) == (f"{MAX:g}", "graded")


@pytest.mark.parametrize("forger", sorted(FORGERIES))
def test_every_forgery_scores_zero(forged, forger, namespaces):
    if forger in NEED_SANDBOX and not namespaces:
        pytest.skip("without namespaces the worker can read the kit's folder and the class (dlkit grade says so)")
    data = read_student(forged[1], forger)
    assert data["score"] == 0 and all(t["score"] == 0 for t in data["tests"])
    assert read_gradebook(forged[1])[forger]["total"] == "0"


def test_nothing_the_forgers_wrote_reached_the_output_or_the_class(forged, namespaces):
    if not namespaces:
        pytest.skip("without namespaces the worker can write where its user may")
    root, out = forged
    assert not list(out.rglob("pwned.txt")) and not list(root.rglob("pwned.txt"))
    for student in [*FORGERIES, "honest"]:  # every results file is the grading process's, whole
        data = json.loads((out / "students" / student / "results.json").read_text())
        assert data["max_score"] == MAX
    lingers = (out / "students" / "lingers" / "output.log").read_text()
    assert "forger: rewrote" not in lingers
