"""The reference scores full marks and a fresh release scores zero, through ``pytest autograder``
run as a student runs it (a subprocess), for every week that has checks.

All the gradings run once, two at a time with one thread each (a 2-core CI machine), in one
module-scoped fixture.
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from autograder.plugin import CHECKS_ROOT
from dlkit.release.generate import SOLUTIONS_ROOT
from autograder.spec import load_spec
from tests.release.conftest import WEEKS
from tests.support import run_autograder

DATA_MISSING = "DataNotFoundError"  # how a check reports a data set absent from the data root
ONE_THREAD = {"DLKIT_THREADS": "1"}
WEEKS_WITH_CHECKS = [w for w in WEEKS if sorted((CHECKS_ROOT / w).glob("test_*.py"))]


def declared_points(week: str) -> float:
    """Points of every exercise of ``week`` that has a check file."""
    exercises = load_spec().get(week, {})
    return sum(check.points for name, exercise in exercises.items() if (CHECKS_ROOT / week / f"test_{name}.py").is_file()
               for check in exercise.public_checks.values())


@pytest.fixture(scope="module")
def graded(fresh_release, tmp_path_factory) -> dict[tuple[str, str], Future]:
    """(week, "reference" | "release") -> the grading, whose ``result()`` is the results JSON."""
    root = tmp_path_factory.mktemp("scores")

    def grade(week: str, which: str) -> dict:
        results = root / f"{week}-{which}.json"
        submission = SOLUTIONS_ROOT if which == "reference" else fresh_release
        proc = run_autograder("-k", week, submission=submission, results=results, env=ONE_THREAD, timeout=3600)
        if not results.exists():
            raise AssertionError(f"no results for {week} {which} (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return json.loads(results.read_text())

    jobs = [(week, which) for week in WEEKS_WITH_CHECKS for which in ("reference", "release")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {job: pool.submit(grade, *job) for job in jobs}
    return futures


def needs_checks(week: str) -> None:
    if week not in WEEKS_WITH_CHECKS:
        pytest.skip(f"{week} has no checks yet (no autograder/{week}/test_*.py)")


@pytest.mark.parametrize("week", WEEKS)
def test_reference_scores_full_marks(week, request):
    needs_checks(week)
    results = request.getfixturevalue("graded")[(week, "reference")].result()
    failed = [f"{t['name']}: {t['output']}" for t in results["tests"] if t["status"] != "passed"]
    for_want_of_data = [f for f in failed if DATA_MISSING in f]
    assert len(for_want_of_data) == len(failed), "the reference fails checks:\n" + "\n".join(failed)
    if for_want_of_data:
        pytest.skip(f"{week}'s data sets are not on this machine, so its reference cannot be trained "
                    f"({len(for_want_of_data)} checks); `dlkit data status` says what is missing")
    assert results["score"] == results["max_score"] == declared_points(week)


@pytest.mark.parametrize("week", WEEKS)
def test_fresh_release_scores_zero(week, request):
    needs_checks(week)
    results = request.getfixturevalue("graded")[(week, "release")].result()
    earning = [t["name"] for t in results["tests"] if t["score"] > 0]
    assert not earning, f"the unsolved release of {week} earns points on: {', '.join(earning)}"
    assert results["max_score"] == declared_points(week)
