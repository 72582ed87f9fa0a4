"""The student handout (``dlkit release handout OUT``): what it holds, what it must never hold, and
that it installs and grades on its own.

One handout is built per session (``handout``); the install test puts it in a fresh virtual
environment that reuses this machine's PyTorch, with the kit's own install out of its sight.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.data import cifar10_tensors, mnist_tensors
from autograder.settings import KIT_ROOT
from autograder.spec import load_spec
from dlkit.keys import answers
from dlkit.release.generate import SOLUTIONS_ROOT, find_leaks, secret_lines, weeks_in
from dlkit.release.handout import LIVE_ONLY, HandoutError, build_handout, instructor_imports
from tests.support import has_data

IDIOMS = {
    "optimizer.zero_grad()", "optimizer.step()", "model.train()", "model.eval()", "torch.manual_seed(seed)",
    "generator = torch.Generator().manual_seed(seed)", "for _ in range(epochs):", "for _ in range(steps):",
    "correct, seen = 0, 0", "seen += labels.shape[0]",
}
"""Lines of the solutions that every PyTorch training or test loop and every seeded draw holds, so the
handout's own loops (the worker's warm-up, ``train_there``, the spiral's full-batch fit) hold them
too. They answer nothing alone: what would, the rest of a loop, is caught line by line below, and a
whole helper by the transplant test (tests/release/test_transplant.py)."""

STUDENT_TOP_LEVEL = {"assignments", "autograder", "pyproject.toml", "README.md", ".gitignore", "data_cache"}


@pytest.fixture(scope="session")
def handout(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("handout") / "course"
    built = build_handout(root)
    print(f"handout: {len(built.files)} files, {built.bytes / 1024:.0f} KiB")
    return root


def test_holds_the_students_side_only(handout):
    assert {p.name for p in handout.iterdir()} == STUDENT_TOP_LEVEL
    assert not list(handout.rglob("dlkit")) and not list(handout.rglob("solutions"))
    assert sorted(p.name for p in (handout / "assignments").iterdir()) == weeks_in(SOLUTIONS_ROOT)
    checks = {p.name for p in (handout / "autograder").glob("week*/test_*.py")}
    assert checks == {f"test_{name}.py" for exercises in load_spec().values() for name in exercises}


def test_no_line_of_a_solution_region_anywhere(handout):
    """Distinctive lines of every week's solution regions, except those the handout shows students
    anyway (any week's stubs and notebooks: the labs' own code)."""
    solution, visible = [], set()
    for week in weeks_in(SOLUTIONS_ROOT):
        lines, shown = secret_lines(SOLUTIONS_ROOT / week)
        solution += lines
        visible |= shown
    leaks = find_leaks(solution, visible | IDIOMS, handout)
    assert not leaks, "\n".join(map(str, leaks))


def _key_forms(week: str, name: str, letter: str) -> set[str]:
    """Texts a key might have been hashed from."""
    return {letter, letter.upper(), f"{name}={letter}", f"{week}/{name}={letter}", f"dlkit/{week}/{name}={letter}",
            f"{name}:{letter}", f"{week}/{name}/{letter}"}


def test_no_answer_key_in_any_form(handout):
    """Neither the letters next to their names nor a digest of them (with four choices a digest is a key)."""
    digests = set()
    named = []
    for week in weeks_in(SOLUTIONS_ROOT):
        for name, letter in answers(week).items():
            named.append(re.compile(rf"{name}\s*=\s*['\"]{letter}['\"]", re.IGNORECASE))
            for choice in "abcd":
                for text in _key_forms(week, name, choice):
                    for algorithm in ("sha256", "sha1", "md5", "blake2b"):
                        digests.add(hashlib.new(algorithm, text.encode()).hexdigest())
    hex_run = re.compile(r"[0-9a-f]{8,}")
    found = []
    for path in handout.rglob("*"):
        if not path.is_file() or path.suffix == ".pt":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path.relative_to(handout)}: {p.pattern}" for p in named if p.search(text)]
        for run in hex_run.findall(text.lower()):
            if any(d.startswith(run) for d in digests):
                found.append(f"{path.relative_to(handout)}: digest {run}")
    assert not found, "\n".join(found)


def test_checks_in_the_handout_never_import_the_instructors_side(handout):
    assert {where.split(":")[0] for where in instructor_imports(handout / "autograder")} <= LIVE_ONLY


def test_its_catalog_holds_the_students_side_messages_only(handout):
    """The handout's compiled catalog has the checks' and the runtime's messages, not the instructors'
    (a release marker error, a hidden check's wording), and no .po source."""
    import gettext

    assert not list(handout.rglob("*.po"))
    with (handout / "autograder" / "locale" / "zh" / "LC_MESSAGES" / "dlkit.mo").open("rb") as f:
        catalog = gettext.GNUTranslations(f)
    assert catalog.gettext("not implemented yet: {name} in {file}") != "not implemented yet: {name} in {file}"
    for instructors in ("line contains 'RELEASE AS:' but not as ' {marker} <code>' at its end",
                        "{call} for a float32 {shape} matrix and an int64 vector"):
        assert catalog.gettext(instructors) == instructors


def test_refuses_a_folder_that_holds_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(HandoutError, match="not an empty folder"):
        build_handout(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_refuses_stale_recorded_values(tmp_path, monkeypatch):
    import dlkit.release.handout as handout_module

    monkeypatch.setattr(handout_module, "stale", lambda week: [f"{week}/spiral: recorded values are stale"])
    with pytest.raises(HandoutError, match="recorded values are stale; run `dlkit release record week1`"):
        build_handout(tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ installed on its own


@pytest.fixture(scope="session")
def handout_python(handout, tmp_path_factory) -> Path:
    """A virtual environment with the handout installed (editable, as students do) and this machine's
    PyTorch; the kit's own installation stays invisible (the handout must not borrow its reference)."""
    venv = tmp_path_factory.mktemp("handout-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "-e",
                    str(handout)], check=True, capture_output=True)
    return python


def _run_in_handout(python: Path, handout: Path, selection: str, submission: Path, results: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLKIT_") or k == "DLKIT_DATA"}
    env["DLKIT_THREADS"] = "1"
    return subprocess.run([str(python), "-m", "pytest", "autograder", "-k", selection, "-p", "no:randomly",
                           "--submission", str(submission), "--results-json", str(results)],
                          cwd=handout, env=env, capture_output=True, text=True, timeout=900)


def test_installed_handout_uses_its_own_package_and_recorded_values(handout, handout_python):
    probe = subprocess.run([str(handout_python), "-c", "import autograder, autograder.oracle as o; "
                            "print(autograder.__file__); print(o.live_reference_available())"],
                           cwd=handout.parent, capture_output=True, text=True, check=True)
    where, live = probe.stdout.split()
    assert Path(where).resolve().is_relative_to(handout.resolve()) and live == "False"


@pytest.mark.parametrize("week", ["week1", "week2"])
def test_installed_handout_scores_zero_untouched_and_full_with_the_solutions(handout, handout_python, week,
                                                                            tmp_path):
    if week == "week2" and not (has_data(mnist_tensors) and has_data(cifar10_tensors)):
        pytest.skip("MNIST or CIFAR-10 is not in the data root")
    untouched = _run_in_handout(handout_python, handout, week, handout / "assignments", tmp_path / "zero.json")
    data = json.loads((tmp_path / "zero.json").read_text())
    assert data["score"] == 0, untouched.stdout[-3000:]

    solved = tmp_path / "solved"
    shutil.copytree(handout / "assignments", solved)
    shutil.copytree(KIT_ROOT / "solutions" / week, solved / week, dirs_exist_ok=True)
    run = _run_in_handout(handout_python, handout, week, solved, tmp_path / "full.json")
    data = json.loads((tmp_path / "full.json").read_text())
    pending = data["extra_data"]["pending_points"]
    assert pending == sum(1 for name in answers(week)) and run.returncode == 0, run.stdout[-3000:]
    assert data["score"] == data["max_score"] - pending, run.stdout[-3000:]
    assert "WAIT  answer_" in run.stdout and "graded after submission" in run.stdout


def test_installed_handout_speaks_chinese(handout, handout_python, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLKIT_")}
    run = subprocess.run([str(handout_python), "-m", "pytest", "autograder", "-k", "week1 and tensor_ops", "-p",
                          "no:randomly", "--lang", "zh"], cwd=handout, env=env, capture_output=True, text=True,
                         timeout=600)
    assert "尚未实现：tensor_ops.py 中的 matvec" in run.stdout and "总分" in run.stdout, run.stdout[-3000:]
