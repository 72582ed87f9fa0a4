"""``dlkit release gradescope``: the zip is built, unpacked into a temporary autograder root
(``DLKIT_AUTOGRADER_ROOT``), set up with the installs stubbed (no network here), and ``run_autograder``
grades the reference, the untouched release, a partial solution and a forger as Gradescope would."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from autograder.settings import KIT_ROOT
from autograder.spec import load_spec
from dlkit.grading.gradescope import CONFIG_NAME
from tests.grading.forgers import FORGERIES
from tests.grading.grading_classes import RELEASE, SOLUTIONS, declared_files, reference_with

WEEK = "week1"
CHECKS = {f"{WEEK}/{e}/{c}": check for e, spec in load_spec()[WEEK].items() for c, check in spec.checks.items()}
MAX = sum(check.points for check in CHECKS.values())
STUB = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$STUB_LOG"
"""
"""Stands in for python3 and apt-get while setup.sh runs: it writes down what it was asked to do."""


def build(tmp: Path, *args: str) -> Path:
    out = tmp / "autograder.zip"
    proc = subprocess.run([sys.executable, "-m", "dlkit.cli", "release", "gradescope", str(out), *args],
                          cwd=KIT_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"{out} written: " in proc.stdout and "Upload it in Gradescope's autograder settings" in proc.stdout
    return out


@pytest.fixture(scope="module")
def week1_zip(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("gradescope"), "--week", WEEK)


def set_up(archive: Path, tmp: Path) -> tuple[Path, str]:
    """Unpack ``archive`` as Gradescope does and run its setup.sh with the installs stubbed; returns the
    autograder root and what setup.sh asked of python3 and apt-get."""
    root = Path(tempfile.mkdtemp(prefix="dlkit-autograder-", dir=tmp))
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(root / "source")
        for info in zf.infolist():  # zipfile drops the modes; Gradescope keeps them
            os.chmod(root / "source" / info.filename, info.external_attr >> 16 & 0o777)
    stubs = tmp / f"stubs-{root.name}"
    stubs.mkdir()
    for name in ("python3", "apt-get"):
        (stubs / name).write_text(STUB)
        (stubs / name).chmod(0o755)
    log = tmp / f"setup-{root.name}.log"
    proc = subprocess.run(["bash", str(root / "source" / "setup.sh")], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}", "STUB_LOG": str(log),
                               "DLKIT_AUTOGRADER_ROOT": str(root)})
    assert proc.returncode == 0, proc.stderr
    return root, log.read_text()


def run_autograder(root: Path, files: dict[str, str | Path], tmp: Path) -> tuple[dict, subprocess.CompletedProcess]:
    """Put ``files`` in ``root/submission`` and run ``run_autograder`` with the ``python3`` first on ``PATH``."""
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    (root / "submission").mkdir()
    for name, content in files.items():
        target = root / "submission" / name
        target.write_text(content.read_text() if isinstance(content, Path) else content)
    python = tmp / "python-bin"
    if not python.exists():
        python.mkdir()
        (python / "python3").symlink_to(sys.executable)
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PATH": f"{python}:{os.environ['PATH']}",
                                            "DLKIT_AUTOGRADER_ROOT": str(root)})
    return json.loads((root / "results" / "results.json").read_text()), proc


@pytest.fixture(scope="module")
def autograder(week1_zip, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("autograder")
    root, _log = set_up(week1_zip, tmp)
    return root, tmp


def test_the_zip_holds_both_scripts_and_the_instructors_kit_and_they_are_valid_shell(week1_zip, tmp_path):
    with zipfile.ZipFile(week1_zip) as zf:
        names = set(zf.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in zf.infolist()}
        config = json.loads(zf.read(CONFIG_NAME))
        for script in ("setup.sh", "run_autograder"):
            assert modes[script] & stat.S_IXUSR, script
            (tmp_path / script).write_bytes(zf.read(script))
            assert subprocess.run(["bash", "-n", str(tmp_path / script)]).returncode == 0, script
    assert {f"kit/solutions/{WEEK}/{name}" for name in declared_files()} <= names
    assert {"kit/dlkit/keys.py", "kit/dlkit/grading/gradescope.py", "kit/pyproject.toml", "kit/README.md"} <= names
    assert {f"kit/dlkit/hidden/{WEEK}/test_tensor_ops.py", f"kit/autograder/{WEEK}/test_spiral.py"} <= names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".ipynb")]
    assert config["week"] == WEEK and isinstance(config["class_seed"], int) and config["isolation"] == "auto"


def test_setup_installs_pytorch_and_the_kit_and_keeps_the_instructors_files_to_root(autograder):
    root, tmp = autograder
    log = (tmp / f"setup-{root.name}.log").read_text().splitlines()
    assert log == ["python3 -m pip --version",
                   "python3 -c import sys; sys.exit(sys.version_info < (3, 10))",
                   "python3 -m pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu",
                   f"python3 -m pip install -e {root}/source/kit"]
    source = root / "source"
    for secret in ("kit/solutions", "kit/dlkit", CONFIG_NAME, f"kit/autograder/{WEEK}"):
        assert (source / secret).stat().st_mode & 0o077 == 0, secret
    assert (source / "kit" / "solutions" / WEEK / "tensor_ops.py").stat().st_mode & 0o077 == 0
    assert (source / "kit" / "autograder" / "expect.py").stat().st_mode & 0o004  # the runtime stays readable
    assert source.stat().st_mode & 0o777 == 0o711


def test_a_week_with_data_downloads_it_from_the_mirror_first(tmp_path):
    archive = build(tmp_path, "--week", "week2", "--mirror", "https://mirror.example/dl", "--torch", "cuda")
    root, log = set_up(archive, tmp_path)
    lines = log.splitlines()
    assert "python3 -m pip install torch torchvision --index-url https://download.pytorch.org/whl/cu128" in lines
    for dataset in ("mnist", "cifar10"):
        assert (f"python3 -m dlkit.cli data download {dataset} --data-root {root}/source/data --quiet "
                f"--mirror https://mirror.example/dl") in lines
    assert f"python3 -m dlkit.cli data status --data-root {root}/source/data" in lines


def test_the_reference_scores_full_marks_with_each_checks_visibility(autograder):
    root, tmp = autograder
    results, proc = run_autograder(root, {name: SOLUTIONS / name for name in declared_files()}, tmp)
    assert proc.returncode == 0, proc.stderr
    assert results["score"] == MAX and results["output"] == ""
    assert {t["name"]: t["visibility"] for t in results["tests"]} == {n: c.visibility for n, c in CHECKS.items()}
    assert results["tests"][0].keys() == {"name", "score", "max_score", "status", "output", "visibility"}
    hidden = [name for name, check in CHECKS.items() if check.hidden]
    assert hidden and all(CHECKS[name].visibility == "after_published" for name in hidden)
    assert results["stdout_visibility"] == "hidden" and "seeds" not in json.dumps(results)


def test_the_untouched_release_scores_zero_and_says_what_to_do(autograder):
    root, tmp = autograder
    results, proc = run_autograder(root, {name: RELEASE / name for name in declared_files()}, tmp)
    assert proc.returncode == 0, proc.stderr
    assert results["score"] == 0 and len(results["tests"]) == len(CHECKS)
    assert all("not implemented yet" in t["output"] for t in results["tests"])


def test_a_partial_solution_gets_its_points_and_the_missing_files_are_named(autograder):
    root, tmp = autograder
    results, proc = run_autograder(root, {"tensor_ops.py": reference_with("def matvec(m, v):\n    return m @ v\n")},
                                   tmp)
    assert proc.returncode == 0, proc.stderr
    tensor_ops = [t for t in results["tests"] if "/tensor_ops/" in t["name"]]
    assert 0 < results["score"] < sum(t["max_score"] for t in tensor_ops)
    assert results["output"].startswith("missing spiral.py, questions.py")
    failed = {t["name"]: t["output"] for t in tensor_ops if t["score"] < t["max_score"]}
    assert f"{WEEK}/tensor_ops/matvec_integer_vector" in failed


def test_a_forger_who_imports_the_reference_scores_zero(autograder):
    root, tmp = autograder
    where, code = FORGERIES["imports_reference"]
    files = {name: (RELEASE / name).read_text() + "\n" + code for name in declared_files()}
    results, proc = run_autograder(root, files, tmp)
    assert proc.returncode == 0, proc.stderr
    assert results["score"] == 0 and all(t["score"] == 0 for t in results["tests"])


def test_without_a_submission_the_student_is_told_and_nothing_is_scored(autograder, tmp_path):
    root, _tmp = autograder
    shutil.rmtree(root / "submission", ignore_errors=True)
    python = tmp_path / "bin"
    python.mkdir()
    (python / "python3").symlink_to(sys.executable)
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PATH": f"{python}:{os.environ['PATH']}",
                                            "DLKIT_AUTOGRADER_ROOT": str(root)})
    assert proc.returncode == 1
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and results["tests"] == []
    assert results["output"].startswith("The autograder could not grade this submission (no submission folder at ")
    assert "tell your course staff" in results["output"]
