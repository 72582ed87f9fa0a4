"""``autograder.notebook.run_checks`` outside nbgrader: points returned, table on stdout, nothing on stderr."""

import shutil

import pytest

from autograder.notebook import ChecksFailed, KitError, run_checks
from dlkit.release.generate import SOLUTIONS_ROOT
from dlkit.release.markers import clear_module
from autograder.spec import exercise_spec

POINTS = sum(c.points for c in exercise_spec("week1", "tensor_ops").public_checks.values())


def test_points_returned_for_a_folder_with_any_name_and_nothing_on_stderr(tmp_path, capfd):
    folder = tmp_path / "my work"  # not named week1: run_checks links it as <week>/ for the plugin
    folder.mkdir()
    shutil.copyfile(SOLUTIONS_ROOT / "week1" / "tensor_ops.py", folder / "tensor_ops.py")
    assert run_checks("week1", "tensor_ops", folder) == POINTS
    out, err = capfd.readouterr()
    assert "week1 / Tensor operations" in out and "TOTAL" in out
    assert err == ""


def test_no_check_passed_raises_checks_failed(tmp_path, capfd):
    folder = tmp_path / "week1"
    folder.mkdir()
    stubs = clear_module((SOLUTIONS_ROOT / "week1" / "tensor_ops.py").read_text(), "tensor_ops.py")
    (folder / "tensor_ops.py").write_text(stubs)
    with pytest.raises(ChecksFailed, match=rf"no check passed \(0 / {POINTS:g} points\)"):
        run_checks("week1", "tensor_ops", folder)
    out, err = capfd.readouterr()
    assert "not implemented yet: matvec in tensor_ops.py" in out
    assert err == ""


def test_kit_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(KitError, match="week1.nope is not declared in exercises.toml"):
        run_checks("week1", "nope", tmp_path)
    with pytest.raises(KitError, match="is not a folder"):
        run_checks("week1", "tensor_ops", tmp_path / "absent")
