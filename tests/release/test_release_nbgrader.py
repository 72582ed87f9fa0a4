"""nbgrader's grading path, run for real: generate, submit, ``nbgrader autograde``,
``nbgrader generate_feedback``; the gradebook must hold the points ``pytest autograder`` gives.

The fixture course's notebook has an autograder test cell ``run_checks("week1", "tensor_ops")``
(the kit's real tensor_ops checks), a notebook-only test cell with hidden tests, and a manually
graded answer. Four sample students, graded in one autograde run:

* ``reference``: the reference ``tensor_ops.py``, notebook answers filled in: full points;
* ``partial``: one function wrong, notebook as released: partial credit, check by check;
* ``noisy``: the reference plus a ``UserWarning``, a ``sys.stderr`` write and a raw write to file
  descriptor 2 on every ``matvec`` call: still full points (nbgrader zeroes a cell that prints to
  stderr; ``run_checks`` keeps the student's stderr in a child process);
* ``unsolved``: the released stubs: zero, shown as one error line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlkit.release.generate import SOLUTIONS_ROOT, release_week
from dlkit.release.markers import clear_module
from autograder.settings import KIT_ROOT
from tests.release.conftest import FIXTURE_COURSE

WEEK = "week1"
TEST_CELL = "tensor_ops_checks"
REFERENCE_MODULE = (SOLUTIONS_ROOT / WEEK / "tensor_ops.py").read_text()
NOISE = '''
import os as _os
import sys as _sys
import warnings as _warnings

_reference_matvec = matvec


def matvec(m, v):
    _warnings.warn("matvec: a UserWarning from the student's code", UserWarning)
    print("matvec: a line on sys.stderr", file=_sys.stderr)
    _os.write(2, b"matvec: a raw write to file descriptor 2\\n")
    return _reference_matvec(m, v)
'''
STUDENTS = {
    # name: (tensor_ops.py source, fill the notebook's answers?, expected points of the test cell)
    "reference": (REFERENCE_MODULE, True, 9.0),
    "partial": (REFERENCE_MODULE.replace("result = m.t()", "result = m"), False, 8.0),
    "noisy": (REFERENCE_MODULE + NOISE, True, 9.0),
    "unsolved": (clear_module(REFERENCE_MODULE, "tensor_ops.py"), False, 0.0),
}


def run_nbgrader(*args: str, course: Path) -> subprocess.CompletedProcess:
    """``nbgrader ARGS`` from the repository root, so the committed nbgrader_config.py is used."""
    env = {**os.environ, "DLKIT_NBGRADER_ROOT": str(course)}
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=KIT_ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def filled(release_notebook: dict, source_notebook: dict) -> dict:
    """The release notebook with every solution cell answered as the reference does."""
    answers = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in source_notebook["cells"]
               if c["metadata"].get("nbgrader", {}).get("solution")}
    nb = json.loads(json.dumps(release_notebook))
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    return nb


def start_pytest_path(folder: Path, results: Path) -> subprocess.Popen:
    """``pytest autograder -k tensor_ops`` on a copy of a submission, started in the background."""
    command = [sys.executable, "-m", "pytest", "autograder", "-p", "no:randomly", "-k", "tensor_ops",
               "--submission", str(folder), "--results-json", str(results)]
    return subprocess.Popen(command, cwd=KIT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[Path, dict[str, float]]:
    """(course directory with every student submitted, autograded and given feedback,
    student -> points ``pytest autograder`` gives the same files). The pytest runs go on in the
    background while nbgrader autogrades."""
    root = tmp_path_factory.mktemp("nbgrader-course")
    course = root / "course"
    release_week(WEEK, FIXTURE_COURSE / "source", root / "assignments", course=course)
    released = root / "assignments" / WEEK
    source_nb = json.loads((FIXTURE_COURSE / "source" / WEEK / "week1.ipynb").read_text())
    release_nb = json.loads((released / "week1.ipynb").read_text())
    running = {}
    for student, (module, fill, _) in STUDENTS.items():
        folder = course / "submitted" / student / WEEK
        shutil.copytree(released, folder)
        (folder / "tensor_ops.py").write_text(module)
        if fill:
            (folder / "week1.ipynb").write_text(json.dumps(filled(release_nb, source_nb)))
        copy = root / "pytest-path" / student
        shutil.copytree(folder, copy / WEEK)
        running[student] = (start_pytest_path(copy, copy / "results.json"), copy / "results.json")
    run_nbgrader("autograde", WEEK, course=course)
    run_nbgrader("generate_feedback", WEEK, course=course)
    points = {}
    for student, (proc, results) in running.items():
        output, _ = proc.communicate(timeout=900)
        assert results.is_file(), f"pytest wrote no results for {student}:\n{output}"
        points[student] = json.loads(results.read_text())["score"]
    return course, points


@pytest.fixture(scope="module")
def course(graded) -> Path:
    return graded[0]


@pytest.fixture(scope="module")
def pytest_points(graded) -> dict[str, float]:
    return graded[1]


@pytest.fixture(scope="module")
def gradebook(course) -> dict[str, dict[str, float | None]]:
    """Student -> {grade cell id: auto score}, read from nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dlkit") as gb:
        for student in STUDENTS:
            submission = gb.find_submission_notebook("week1", WEEK, student)
            scores[student] = {g.name: g.auto_score for g in submission.grades}
    return scores


def autograded_cell(course: Path, student: str, grade_id: str) -> dict:
    nb = json.loads((course / "autograded" / student / WEEK / "week1.ipynb").read_text())
    return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.mark.parametrize("student", STUDENTS)
def test_gradebook_points_equal_the_pytest_path(gradebook, pytest_points, student):
    expected = STUDENTS[student][2]
    assert gradebook[student][TEST_CELL] == pytest_points[student] == expected


def test_stderr_from_student_code_costs_no_points(course, gradebook, pytest_points):
    folder = course / "submitted" / "noisy" / WEEK
    premise = subprocess.run([sys.executable, "-c", "import torch, tensor_ops; "
                              "tensor_ops.matvec(torch.eye(2), torch.arange(2))"],
                             cwd=folder, capture_output=True, text=True, timeout=300)
    assert "UserWarning" in premise.stderr and "file descriptor 2" in premise.stderr  # it really is noisy
    assert gradebook["noisy"][TEST_CELL] == pytest_points["noisy"] == 9.0
    outputs = autograded_cell(course, "noisy", TEST_CELL)["outputs"]
    assert [o.get("name") for o in outputs if o["output_type"] == "stream"] == ["stdout"]


def test_no_check_passed_is_one_error_line_and_zero(course, gradebook):
    outputs = autograded_cell(course, "unsolved", TEST_CELL)["outputs"]
    (error,) = [o for o in outputs if o["output_type"] == "error"]
    assert error["ename"] == "ChecksFailed"
    assert error["traceback"] == [f"ChecksFailed: {error['evalue']}"]
    assert "not implemented yet: matvec in tensor_ops.py" in "".join(outputs[0]["text"])
    assert gradebook["unsolved"][TEST_CELL] == 0


def test_partial_credit_is_the_cells_value(course):
    outputs = autograded_cell(course, "partial", TEST_CELL)["outputs"]
    (result,) = [o for o in outputs if o["output_type"] == "execute_result"]
    assert "".join(result["data"]["text/plain"]) == "8.0"


def test_hidden_tests_are_removed_from_the_release_and_run_at_autograde(course, gradebook):
    released = json.loads((course / "release" / WEEK / "week1.ipynb").read_text())
    hidden = "assert abs(hypotenuse(1, 1) - math.sqrt(2)) < 1e-12"
    assert hidden not in json.dumps(released)
    assert hidden in "".join(autograded_cell(course, "reference", "hypotenuse_test")["source"])
    assert gradebook["reference"]["hypotenuse_test"] == 1
    assert gradebook["partial"]["hypotenuse_test"] == 0  # answer not filled in


def test_feedback_html_shows_the_points(course):
    for student, (_, fill, points) in STUDENTS.items():
        html = (course / "feedback" / student / WEEK / "week1.html").read_text()
        assert f"Score: {points} / 9.0" in html
