"""The committed release: it must equal a fresh generation (drift) and contain no solution (leak).

Each property is also shown failing: a hand-edited copy is reported as drift, and a release with a
solution line put back is reported as a leak, naming file and line.
"""

import json
import shutil

import pytest

from dlkit.release.generate import (
    ASSIGNMENTS_ROOT,
    SOLUTIONS_ROOT,
    Difference,
    compare_folders,
    find_leaks,
    is_distinctive,
    secret_lines,
)
from tests.release.conftest import WEEKS


# --- drift --------------------------------------------------------------------------------------

@pytest.mark.parametrize("week", WEEKS)
def test_committed_release_equals_a_fresh_generation(fresh_release, week):
    differences = compare_folders(fresh_release / week, ASSIGNMENTS_ROOT / week)
    listed = "\n".join(f"  assignments/{week}/{d}" for d in differences)
    assert not differences, f"assignments/{week} drifted from solutions/{week}; run `dlkit release {week}`:\n{listed}"


def test_drift_is_reported_for_a_hand_edited_file(fresh_release, tmp_path):
    edited = tmp_path / "week1"
    shutil.copytree(fresh_release / "week1", edited)
    module = sorted(edited.glob("*.py"))[0]
    module.write_text(module.read_text() + "# edited by hand\n")
    (edited / "notes.md").write_text("not generated\n")
    assert set(compare_folders(fresh_release / "week1", edited)) == {
        Difference(module.name, "differs"), Difference("notes.md", "extra")}


# --- leaks --------------------------------------------------------------------------------------

def _secrets(week):
    return secret_lines(SOLUTIONS_ROOT / week, f"solutions/{week}")


@pytest.mark.parametrize("week", WEEKS)
def test_no_solution_line_reaches_the_committed_release(week):
    solution, visible = _secrets(week)
    assert any(is_distinctive(text) for _, text in solution), f"solutions/{week} has no solution region to check"
    leaks = find_leaks(solution, visible, ASSIGNMENTS_ROOT / week)
    assert not leaks, "\n".join(f"  {leak}" for leak in leaks)


def test_trivial_lines_are_not_evidence_of_a_leak():
    for trivial in ("pass", "return x", "return self.classifier", ")", "])", "},", "else:", "'''", "raise"):
        assert not is_distinctive(trivial), trivial
    for distinctive in ("result = m.t()", "return torch.cat((a, b), dim=0)", "# numerically stable: subtract max"):
        assert is_distinctive(distinctive), distinctive


def test_a_solution_line_put_back_into_a_module_is_reported(fresh_release, tmp_path):
    solution, visible = _secrets("week1")
    where, line = next((w, t) for w, t in solution if is_distinctive(t) and t not in visible and ".py," in w)
    leaking = tmp_path / "week1"
    shutil.copytree(fresh_release / "week1", leaking)
    module = leaking / where.split("/")[-1].split(",")[0]
    text = module.read_text()
    module.write_text(text.replace("raise NotImplementedError()", line, 1))
    leaks = find_leaks(solution, visible, leaking)
    assert [(leak.source, leak.text) for leak in leaks] == [(where, line)]
    number = text.split("\n").index(next(x for x in text.split("\n") if "raise NotImplementedError()" in x)) + 1
    assert leaks[0].release_file == f"{module.name}:{number}"


def test_a_solution_left_in_a_notebook_cell_is_reported(fresh_release, tmp_path):
    week = next((w for w in WEEKS if list((fresh_release / w).glob("*.ipynb"))), None)
    if week is None:
        pytest.skip("no week has a notebook yet")
    solution, visible = _secrets(week)
    where, line = next((w, t) for w, t in solution if is_distinctive(t) and t not in visible and ".ipynb" in w)
    leaking = tmp_path / week
    shutil.copytree(fresh_release / week, leaking)
    notebook = sorted(leaking.glob("*.ipynb"))[0]
    nb = json.loads(notebook.read_text())
    nb["cells"][-1]["source"] = ["x = 1\n", line]
    notebook.write_text(json.dumps(nb))
    leaks = find_leaks(solution, visible, leaking)
    assert [(leak.release_file, leak.text) for leak in leaks] == [
        (f"{notebook.name}, cell {len(nb['cells'])}, line 2", line)]


def test_a_marker_left_in_the_release_is_reported(fresh_release, tmp_path):
    leaking = tmp_path / "week1"
    shutil.copytree(fresh_release / "week1", leaking)
    (leaking / "extra.py").write_text("x = 1\n    ### BEGIN SOLUTION\n")
    leaks = find_leaks([], set(), leaking)
    assert [(leak.release_file, leak.source) for leak in leaks] == [("extra.py:2", "a marker left in the release")]
