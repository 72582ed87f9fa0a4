"""The reference scores full marks and a fresh release scores zero, through ``pytest autograder``
run as a student runs it (a subprocess), for every week that has checks."""

import pytest

from autograder.plugin import CHECKS_ROOT
from autograder.release.generate import SOLUTIONS_ROOT
from autograder.spec import load_spec
from tests.release.conftest import WEEKS
from tests.support import grade

DATA_MISSING = "DataNotFoundError"  # how a check reports a data set absent from the data root


def declared_points(week: str) -> float:
    """Points of every exercise of ``week`` that has a check file."""
    exercises = load_spec().get(week, {})
    return sum(check.points for name, exercise in exercises.items() if (CHECKS_ROOT / week / f"test_{name}.py").is_file()
               for check in exercise.checks.values())


def needs_checks(week: str) -> None:
    if not sorted((CHECKS_ROOT / week).glob("test_*.py")):
        pytest.skip(f"{week} has no checks yet (no autograder/{week}/test_*.py)")


@pytest.mark.parametrize("week", WEEKS)
def test_reference_scores_full_marks(week, tmp_path):
    needs_checks(week)
    results = grade(week, SOLUTIONS_ROOT, tmp_path)
    failed = [f"{t['name']}: {t['output']}" for t in results["tests"] if t["status"] != "passed"]
    for_want_of_data = [f for f in failed if DATA_MISSING in f]
    assert len(for_want_of_data) == len(failed), "the reference fails checks:\n" + "\n".join(failed)
    if for_want_of_data:
        pytest.skip(f"{week}'s data sets are not on this machine, so its reference cannot be trained "
                    f"({len(for_want_of_data)} checks); `dlkit data status` says what is missing")
    assert results["score"] == results["max_score"] == declared_points(week)


@pytest.mark.parametrize("week", WEEKS)
def test_fresh_release_scores_zero(week, fresh_release, tmp_path):
    needs_checks(week)
    results = grade(week, fresh_release, tmp_path)
    earning = [t["name"] for t in results["tests"] if t["score"] > 0]
    assert not earning, f"the unsolved release of {week} earns points on: {', '.join(earning)}"
    assert results["max_score"] == declared_points(week)
