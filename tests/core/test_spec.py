"""exercises.toml: parsing errors, and agreement between declared points and the checks that exist."""

import ast
from pathlib import Path

import pytest

from autograder.spec import SpecError, load_spec, parse_spec

CHECKS_ROOT = Path(__file__).resolve().parents[2] / "autograder"
HIDDEN_ROOT = CHECKS_ROOT.parent / "dlkit" / "hidden"


def _declared_check_functions(root: Path = CHECKS_ROOT) -> set[str]:
    found = set()
    for path in root.glob("week*/test_*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found.add(f"{path.parent.name}/{path.stem[5:]}/{node.name[5:]}")
    return found


def test_every_check_has_points_and_every_point_has_a_check():
    declared = {c.id for exercises in load_spec().values() for ex in exercises.values() for c in ex.checks.values()}
    functions = _declared_check_functions()
    hidden = _declared_check_functions(HIDDEN_ROOT)
    assert functions, "no checks found under autograder/week*/"
    assert (functions | hidden) - declared == set(), "checks without points in exercises.toml"
    assert declared - (functions | hidden) == set(), "points in exercises.toml for checks that do not exist"
    marked = {c.id for exercises in load_spec().values() for ex in exercises.values() for c in ex.checks.values()
              if c.hidden}
    assert marked == hidden, "hidden checks live in dlkit/hidden/<week>/, the others in autograder/<week>/"


def test_hidden_check_defaults_to_after_published():
    spec = parse_spec({"week9": {"ex": {"file": "ex.py", "checks": {"a": {"points": 2, "hidden": True}, "b": 1}}}})
    checks = spec["week9"]["ex"].checks
    assert (checks["a"].hidden, checks["a"].visibility) == (True, "after_published")
    assert (checks["b"].hidden, checks["b"].visibility) == (False, "visible")


def test_every_exercise_names_a_reference_file():
    root = CHECKS_ROOT.parent / "solutions"
    missing = [f"{week}/{ex.file}" for week, exercises in load_spec().items() for ex in exercises.values()
               if not (root / week / ex.file).is_file()]
    assert missing == []


def test_threshold_per_profile_and_plain():
    spec = parse_spec({"week9": {"ex": {"file": "ex.py", "checks": {"a": 1},
                                        "thresholds": {"acc": {"quick": 0.5, "full": 0.9}, "plain": 0.3}}}})
    exercise = spec["week9"]["ex"]
    assert exercise.threshold("acc", "quick") == 0.5
    assert exercise.threshold("acc", "full") == 0.9
    assert exercise.threshold("plain", "full") == 0.3
    with pytest.raises(SpecError, match="no threshold named 'missing'"):
        exercise.threshold("missing", "quick")


@pytest.mark.parametrize(
    "table, message",
    [
        ({"ex": {"checks": {"a": 1}}}, "missing 'file'"),
        ({"ex": {"file": "ex.py", "checks": {"a": -1}}}, "non-negative"),
        ({"ex": {"file": "ex.py", "checks": {"a": "two"}}}, "expected a number of points"),
        ({"ex": {"file": "ex.py", "checks": {"a": {"points": 1, "visibility": "secret"}}}}, "visibility 'secret'"),
        ({"ex": {"file": "ex.py", "checks": {"a": {"points": 1, "weight": 2}}}}, "unknown keys"),
        ({"ex": {"file": "ex.py", "checks": {"a": {"points": 1, "hidden": "yes"}}}}, "hidden must be true or false"),
        ({"ex": {"file": "ex.py", "budgets": {"slow": {}}}}, "unknown profiles"),
    ],
)
def test_malformed_spec_names_the_problem(table, message):
    with pytest.raises(SpecError, match=message):
        parse_spec({"week9": table})
