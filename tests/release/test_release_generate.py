"""The generator on a tiny fixture course, compared with committed expected folders (otter-style),
plus the pipeline's guarantees: byte-identical regeneration, atomic swap, removals reported."""

import shutil
from pathlib import Path

import pytest

from dlkit.cli import main
from dlkit.release import generate
from dlkit.release.generate import (
    Difference,
    ReleaseError,
    Step,
    check_order,
    compare_folders,
    release_week,
)
from dlkit.release.markers import MarkerError
from tests.release.conftest import FIXTURE_COURSE

SOURCE = FIXTURE_COURSE / "source"
EXPECTED = FIXTURE_COURSE / "expected"
FIXTURE_WEEKS = sorted(p.name for p in SOURCE.iterdir())


@pytest.fixture(scope="module")
def fixture_release(tmp_path_factory):
    """The fixture course generated once: (assignments folder, nbgrader course folder)."""
    root = tmp_path_factory.mktemp("fixture-release")
    for week in FIXTURE_WEEKS:
        release_week(week, SOURCE, root / "assignments", course=root / "course")
    return root / "assignments", root / "course"


@pytest.mark.parametrize("week", FIXTURE_WEEKS)
def test_generated_release_equals_the_expected_folder(fixture_release, week):
    assignments, _ = fixture_release
    assert compare_folders(EXPECTED / week, assignments / week) == []


def test_regeneration_is_byte_identical(fixture_release, tmp_path):
    assignments, _ = fixture_release
    release_week("week1", SOURCE, tmp_path)
    assert compare_folders(assignments / "week1", tmp_path / "week1") == []


def test_course_directory_follows_nbgraders_layout_without_modules(fixture_release):
    _, course = fixture_release
    assert (course / "gradebook.db").is_file()
    staged = sorted(p.relative_to(course / "source" / "week1").as_posix()
                    for p in (course / "source" / "week1").rglob("*") if p.is_file())
    assert staged == ["data/notes.txt", "week1.ipynb"]  # no .py: autograde would copy it over the student's
    assert (course / "release" / "week1" / "week1.ipynb").is_file()


@pytest.fixture
def source_copy(tmp_path) -> Path:
    shutil.copytree(SOURCE, tmp_path / "source")
    return tmp_path / "source"


@pytest.fixture
def old_release(tmp_path) -> Path:
    """assignments/ with an existing week1 that has a file no source produces any more."""
    assignments = tmp_path / "assignments"
    shutil.copytree(EXPECTED / "week1", assignments / "week1")
    (assignments / "week1" / "old_exercise.py").write_text("# from last year\n")
    return assignments


def test_files_without_a_source_are_removed_and_reported(source_copy, old_release):
    result = release_week("week1", source_copy, old_release)
    assert result.removed == ["old_exercise.py"]
    assert not (old_release / "week1" / "old_exercise.py").exists()
    assert compare_folders(EXPECTED / "week1", old_release / "week1") == []


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_marker_error_leaves_assignments_as_they_were(source_copy, old_release):
    before = _snapshot(old_release)
    helpers = source_copy / "week1" / "helpers.py"
    helpers.write_text(helpers.read_text().replace("            ### END SOLUTION\n", ""))
    with pytest.raises(MarkerError, match=r"^source/week1/helpers.py, line 26: no end solution statement found"):
        release_week("week1", source_copy, old_release)
    assert _snapshot(old_release) == before
    assert sorted(p.name for p in old_release.iterdir()) == ["week1"]  # no temporary folder left behind


def test_late_failure_leak_check_leaves_assignments_as_they_were(source_copy, old_release):
    # a data file repeating a solution line is only caught by the last step, after every file was written
    (source_copy / "week1" / "data" / "notes.txt").write_text("clamped = max(-LIMIT, min(LIMIT, x))\n")
    before = _snapshot(old_release)
    with pytest.raises(ReleaseError, match=r"would leak solution lines:\n  data/notes.txt:1: "
                                           r"'clamped = max\(-LIMIT, min\(LIMIT, x\)\)'"):
        release_week("week1", source_copy, old_release)
    assert _snapshot(old_release) == before
    assert sorted(p.name for p in old_release.iterdir()) == ["week1"]


def test_nbgrader_failure_is_reported_with_its_message(source_copy, tmp_path):
    notebook = source_copy / "week1" / "week1.ipynb"
    notebook.write_text(notebook.read_text().replace('"grade_id": "setup"', '"grade_id": "intro"'))
    with pytest.raises(Exception, match="(?i)duplicate"):
        release_week("week1", source_copy, tmp_path / "assignments")
    assert not (tmp_path / "assignments" / "week1").exists()


def test_pipeline_order_is_checked_in_code():
    check_order(generate.PIPELINE)
    swapped = list(generate.PIPELINE)
    nbgrader_at = next(i for i, s in enumerate(swapped) if s.name == "nbgrader")
    swapped.insert(0, swapped.pop(nbgrader_at))
    with pytest.raises(ReleaseError, match="'nbgrader' needs course staged"):
        check_order(tuple(swapped))
    without_leaks = tuple(s for s in generate.PIPELINE if s.name != "leaks")
    with pytest.raises(ReleaseError, match="no leak check"):
        check_order(without_leaks)
    with pytest.raises(ReleaseError):
        check_order((Step("x", lambda build: None, needs=("anything",), gives="y"),))


def test_compare_folders_names_each_kind_of_difference(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "same.py").write_text("x\n")
    (tmp_path / "b" / "same.py").write_text("x\n")
    (tmp_path / "a" / "changed.py").write_text("x\n")
    (tmp_path / "b" / "changed.py").write_text("y\n")
    (tmp_path / "a" / "missing.py").write_text("x\n")
    (tmp_path / "b" / "extra.py").write_text("x\n")
    assert compare_folders(tmp_path / "a", tmp_path / "b") == [
        Difference("changed.py", "differs"), Difference("extra.py", "extra"), Difference("missing.py", "missing")]


def test_cli_writes_then_check_passes_then_fails_on_drift(source_copy, tmp_path, capsys):
    assignments = tmp_path / "assignments"
    common = ["--solutions", str(source_copy), "--assignments", str(assignments)]
    assert main(["release", "week2", *common]) == 0
    assert "week2: assignments/week2 regenerated (1 file)" in capsys.readouterr().out
    assert main(["release", "week2", "--check", *common]) == 0
    assert "week2: up to date (1 file)" in capsys.readouterr().out
    (assignments / "week2" / "planted.py").write_text("edited by hand\n")
    assert main(["release", "week2", "--check", *common]) == 1
    out = capsys.readouterr().out
    assert "week2: assignments/week2 differs from a fresh generation" in out
    assert "  planted.py (differs)" in out
    assert (assignments / "week2" / "planted.py").read_text() == "edited by hand\n"  # --check writes nothing


def test_cli_reports_a_marker_error_and_exits_non_zero(source_copy, tmp_path, capsys):
    planted = source_copy / "week2" / "planted.py"
    planted.write_text(planted.read_text() + "## BEGIN SOLUTION\n")
    assert main(["release", "week2", "--solutions", str(source_copy), "--assignments", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "week2: FAILED" in err and "planted.py, line 4: " in err
    assert main(["release", "week9", "--solutions", str(source_copy)]) == 2
