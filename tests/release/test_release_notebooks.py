"""Notebook checks before nbgrader runs: markers per cell, test-cell points, stable ids, step order."""

import pytest

from dlkit.release import notebooks
from dlkit.release.markers import MarkerError
from autograder.spec import exercise_spec, load_spec
from tests.release.conftest import WEEKS

WHERE = "solutions/week1/week1.ipynb"
TENSOR_OPS_POINTS = sum(c.points for c in exercise_spec("week1", "tensor_ops").public_checks.values())


def cell(source: str, cell_type: str = "code", **nbgrader) -> dict:
    meta = {"grade": False, "solution": False, "locked": False, "grade_id": "c", "schema_version": 3, **nbgrader}
    return {"cell_type": cell_type, "metadata": {"nbgrader": meta}, "source": source,
            **({"outputs": [], "execution_count": None} if cell_type == "code" else {})}


def notebook(*cells: dict) -> dict:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


RUN_CHECKS = 'from autograder.notebook import run_checks\nrun_checks("week1", "tensor_ops")'


def test_test_cell_with_the_exercise_points_passes():
    nb = notebook(cell("x = 1"), cell(RUN_CHECKS, grade=True, points=TENSOR_OPS_POINTS, grade_id="t"))
    assert notebooks.check_test_cells(nb, WHERE, "week1") == [("t", "tensor_ops", TENSOR_OPS_POINTS)]


def test_test_cell_with_other_points_names_notebook_cell_and_fix():
    nb = notebook(cell("x = 1"), cell(RUN_CHECKS, grade=True, points=3, grade_id="t"))
    with pytest.raises(MarkerError) as caught:
        notebooks.check_test_cells(nb, WHERE, "week1")
    message = str(caught.value)
    assert message.startswith(f"{WHERE}, cell 2 (t), line 2: ")
    assert f"set the cell's points to {TENSOR_OPS_POINTS:g}" in message


def test_run_checks_outside_a_grade_cell_is_refused():
    nb = notebook(cell(RUN_CHECKS))
    with pytest.raises(MarkerError, match="must be in an autograder test cell"):
        notebooks.check_test_cells(nb, WHERE, "week1")


def test_test_cell_must_end_with_the_call():
    source = RUN_CHECKS + "\nprint('done')"
    nb = notebook(cell(source, grade=True, points=TENSOR_OPS_POINTS))
    with pytest.raises(MarkerError, match="must end with the run_checks"):
        notebooks.check_test_cells(nb, WHERE, "week1")


def test_test_cell_must_end_with_the_call_once_hidden_tests_are_removed():
    source = RUN_CHECKS + "\n### BEGIN HIDDEN TESTS\nrun_checks('week1', 'tensor_ops')\n### END HIDDEN TESTS"
    nb = notebook(cell(source, grade=True, points=TENSOR_OPS_POINTS))
    with pytest.raises(MarkerError, match="one run_checks"):
        notebooks.check_test_cells(nb, WHERE, "week1")


def test_unknown_exercise_and_other_week_are_refused():
    nb = notebook(cell('run_checks("week1", "nope")', grade=True, points=1))
    with pytest.raises(MarkerError, match="not declared in exercises.toml"):
        notebooks.check_test_cells(nb, WHERE, "week1")
    nb = notebook(cell('run_checks("week1", "tensor_ops")', grade=True, points=TENSOR_OPS_POINTS))
    with pytest.raises(MarkerError, match="in a notebook of week2"):
        notebooks.check_test_cells(nb, WHERE, "week2")


def test_misspelled_marker_in_a_cell_names_cell_and_line():
    nb = notebook(cell("a = 1"), cell("def f():\n    ### BEGIN SOLUTON\n    return 1", solution=True, grade_id="f"))
    with pytest.raises(MarkerError) as caught:
        notebooks.scan_notebook(nb, WHERE)
    assert str(caught.value).startswith(f"{WHERE}, cell 2 (f), line 2: looks like a misspelled marker")


def test_solution_region_in_a_non_solution_cell_is_refused():
    nb = notebook(cell("### BEGIN SOLUTION\na = 1\n### END SOLUTION", grade_id="g"))
    with pytest.raises(MarkerError, match="Solution region detected in a non-solution cell"):
        notebooks.scan_notebook(nb, WHERE)


def test_hidden_tests_only_in_grade_cells_and_release_as_not_in_notebooks():
    with pytest.raises(MarkerError, match="only allowed in a notebook's autograder test cell"):
        notebooks.scan_notebook(notebook(cell("### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS")), WHERE)
    with pytest.raises(MarkerError, match="only supported in .py modules"):
        notebooks.scan_notebook(notebook(cell("a = 1  ### RELEASE AS: a = 2")), WHERE)


def test_whole_solution_cell_counts_as_solution_lines():
    nb = notebook(cell("The matrix is float32.", "markdown", solution=True, grade=True, points=1))
    (markers,) = notebooks.scan_notebook(nb, WHERE)
    assert markers.solution_lines() == [(1, "The matrix is float32.")]


def test_stable_ids_keep_valid_ones_and_never_invent_random_ones():
    nb = notebook(cell("a", grade_id="first"), cell("b", grade_id="first"), cell("c", grade_id="bad id!"))
    nb["cells"][0]["id"] = "kept-id"
    fixed = notebooks.with_stable_ids(nb)
    assert [c["id"] for c in fixed["cells"]] == ["kept-id", "first", "cell-3"]
    assert notebooks.with_stable_ids(nb) == fixed
    assert "id" not in nb["cells"][1]  # the input is not modified


def test_nbgrader_default_order_is_accepted_and_a_leaking_order_refused():
    from nbgrader.converters import GenerateAssignment

    default = list(GenerateAssignment().preprocessors)
    notebooks.check_nbgrader_order(default)
    names = [p.__name__ for p in default]
    hidden_first = [default[names.index("ClearHiddenTests")]] + [p for p in default if p.__name__ != "ClearHiddenTests"]
    with pytest.raises(notebooks.NbgraderError, match="SaveCells must run before ClearHiddenTests"):
        notebooks.check_nbgrader_order(hidden_first)


def test_nbgrader_config_protects_every_exercise_file_from_autograde_overwriting(tmp_path):
    config = notebooks.nbgrader_config(tmp_path)
    assert config.CourseDirectory.root == str(tmp_path.resolve())
    assert "tensor_ops.py" in config.Autograde.exclude_overwriting["week1"]
    assert config.Execute.timeout >= 600


def test_in_process_gradebook_version_is_the_one_alembic_reports():
    from nbgrader import api

    notebooks._fast_new_gradebooks()
    assert api.get_alembic_version.dlkit_in_process
    assert api.get_alembic_version() == api.get_alembic_version.original()


@pytest.mark.parametrize("week", WEEKS)
def test_each_exercise_with_checks_has_one_test_cell_in_the_weeks_notebooks(week):
    """So that nbgrader's gradebook holds every point ``pytest autograder`` gives for the week."""
    from autograder.plugin import CHECKS_ROOT
    from dlkit.release.generate import SOLUTIONS_ROOT

    graded = {name for name, exercise in load_spec().get(week, {}).items()
              if (CHECKS_ROOT / week / f"test_{name}.py").is_file() and any(c.points for c in exercise.checks.values())}
    cells = []
    for path in sorted((SOLUTIONS_ROOT / week).glob("*.ipynb")):
        nb = notebooks.read_notebook_json(path)
        cells += notebooks.check_test_cells(nb, f"solutions/{week}/{path.name}", week)
    if not cells:
        pytest.skip(f"solutions/{week} has no run_checks test cells yet, so nbgrader would grade nothing; add one "
                    f"per exercise ({', '.join(sorted(graded))}), see docs/release.md")
    exercises = [exercise for _, exercise, _ in cells]
    assert sorted(exercises) == sorted(graded), f"test cells for {exercises}, exercises with checks: {sorted(graded)}"
