"""``pytest autograder`` as a student runs it: the table, the JSON, determinism, broken files."""

import json
import shutil

import pytest

from autograder.settings import KIT_ROOT
from tests.support import copy_week, grade, patch_file, run_autograder

SOLUTIONS = KIT_ROOT / "solutions"


@pytest.fixture
def reference_copy(tmp_path):
    return copy_week(SOLUTIONS, "week1", tmp_path / "submission")


def test_reference_table_and_json(tmp_path):
    results = tmp_path / "results.json"
    proc = run_autograder("-k", "tensor_ops", submission=SOLUTIONS, results=results)
    assert proc.returncode == 0, proc.stdout
    assert "week1 / Tensor operations" in proc.stdout
    assert "TOTAL" in proc.stdout
    data = json.loads(results.read_text())
    assert data["score"] == data["max_score"] > 0
    assert {t["status"] for t in data["tests"]} == {"passed"}
    provenance = data["extra_data"]["dlkit"]
    assert {"kit_version", "torch_version", "device", "profile", "threads", "seeds"} <= provenance.keys()
    assert set(provenance["seeds"]) == {t["name"] for t in data["tests"]}


def test_two_runs_give_identical_json(tmp_path):
    first = tmp_path / "a.json"
    second = tmp_path / "b.json"
    run_autograder("-k", "tensor_ops or questions", results=first)
    run_autograder("-k", "tensor_ops or questions", results=second)
    assert first.read_bytes() == second.read_bytes()


def test_syntax_error_fails_only_that_files_checks(reference_copy, tmp_path):
    patch_file(reference_copy / "week1" / "tensor_ops.py", "def transpose(m", "def transpose(m,,")
    data = grade("week1 and (tensor_ops or questions)", reference_copy, tmp_path)
    broken = [t for t in data["tests"] if t["name"].startswith("week1/tensor_ops/")]
    others = [t for t in data["tests"] if not t["name"].startswith("week1/tensor_ops/")]
    assert broken and all(t["score"] == 0 for t in broken)
    assert all(t["output"].startswith("tensor_ops.py has a syntax error at line ") for t in broken)
    assert all(t["extra_data"]["cause"] == "module tensor_ops.py" for t in broken)
    assert all(t["status"] == "passed" for t in others)


def test_missing_file_says_which(reference_copy, tmp_path):
    (reference_copy / "week1" / "tensor_ops.py").unlink()
    data = grade("tensor_ops", reference_copy, tmp_path)
    assert data["score"] == 0
    assert all(t["output"].startswith("tensor_ops.py is missing") for t in data["tests"])


def test_stderr_warning_and_printing_cost_nothing(reference_copy, tmp_path):
    patch_file(reference_copy / "week1" / "tensor_ops.py", "import torch\n",
               "import sys\nimport warnings\nimport torch\n"
               "warnings.warn('a UserWarning like PyTorch prints')\n"
               "print('debug output', file=sys.stderr)\nprint('x' * 100000)\n")
    data = grade("tensor_ops", reference_copy, tmp_path)
    assert data["score"] == data["max_score"] > 0


def test_no_traceback_into_kit_internals():
    proc = run_autograder("-k", "tensor_ops")
    assert proc.returncode == 1
    assert "not implemented yet: matvec in tensor_ops.py" in proc.stdout
    assert "Traceback" not in proc.stdout
    assert "autograder/expect.py" not in proc.stdout and "site-packages" not in proc.stdout


def test_bad_option_is_a_usage_error():
    proc = run_autograder("-k", "tensor_ops", "--device", "tpu")
    assert proc.returncode == 4
    assert "command-line option --device='tpu' is not one of: auto, cpu, cuda" in proc.stderr


def test_endless_loop_fails_its_check_after_the_time_limit(reference_copy, tmp_path):
    patch_file(reference_copy / "week1" / "tensor_ops.py", "    result = m.t()\n",
               "    while True:\n        try:\n            pass\n        except Exception:\n            pass\n")
    data = grade("tensor_ops", reference_copy, tmp_path, env={"DLKIT_CHECK_TIMEOUT": "1"})
    by_name = {t["name"]: t for t in data["tests"]}
    looping = by_name["week1/tensor_ops/transpose"]
    assert looping["score"] == 0
    assert "still running after 1 s" in looping["output"]
    assert "tensor_ops.py, line" in looping["output"] and "in transpose" in looping["output"]
    assert all(t["status"] == "passed" for name, t in by_name.items() if name != looping["name"])
