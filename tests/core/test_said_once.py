"""Every lost point says why, once: stubs read "not implemented yet" before any data problem, a missing
data set is explained above the table, and a long message repeated across an exercise is shown once.

The week-2 runs use an empty data root, as a student's first run on a machine without the data would.
"""

from __future__ import annotations

import json

import pytest

from autograder.expect import CheckFailure, expect_written, unwritten
from autograder.report import format_table
from autograder.results import FAILED, PASSED, CheckResult, Provenance, shared_causes
from tests.support import student_submission as Submission
from tests.support import ASSIGNMENTS, SOLUTIONS, ONE_THREAD, run_autograder

LEARNING = {"cifar10": ["net_accuracy"], "mnist": ["fc_accuracy", "cnn_accuracy", "cnn_beats_fc",
                                                     "permutation_hurts_cnn_more"],
            "residual": ["small_resnet_beats_net"], "vgg": ["learns"]}


@pytest.fixture(scope="module")
def empty_root(tmp_path_factory):
    return tmp_path_factory.mktemp("empty_data_root")


def _week2(submission, empty_root, tmp_path_factory):
    results = tmp_path_factory.mktemp("week2") / "results.json"
    proc = run_autograder("-k", "week2", submission=submission, results=results,
                          env={**ONE_THREAD, "DLKIT_DATA": str(empty_root)})
    return proc.stdout, json.loads(results.read_text())


@pytest.fixture(scope="module")
def release_run(empty_root, tmp_path_factory):
    return _week2(ASSIGNMENTS, empty_root, tmp_path_factory)


@pytest.fixture(scope="module")
def reference_run(empty_root, tmp_path_factory):
    return _week2(SOLUTIONS, empty_root, tmp_path_factory)


def test_untouched_release_says_not_implemented_before_any_data_problem(release_run):
    stdout, data = release_run
    for exercise, checks in LEARNING.items():
        for check in checks:
            output = next(t["output"] for t in data["tests"] if t["name"] == f"week2/{exercise}/{check}")
            assert "not found under" not in output and "DataNotFoundError" not in output, (check, output)
            if exercise != "vgg":  # VGG's file is written, with the lab's bugs in it
                assert output.startswith("not implemented yet: "), (check, output)
    assert stdout.count("could not be read") <= 1
    assert not any(line.rstrip().endswith("...") for line in stdout.splitlines())


def test_planted_bug_is_shown_once_then_referred_to(release_run):
    stdout = release_run[0]
    table = stdout.split("VGG on CIFAR-10", 1)[1]
    assert table.count("uses a name `cfg` that is not defined") == 1
    assert table.count("same as constructs above") == 5  # output_shape ... learns


def test_missing_data_is_said_once_above_the_table(reference_run, empty_root):
    stdout, data = reference_run
    table = stdout.split("dlkit points", 1)[1]
    for dataset, needing in (("MNIST", 4), ("CIFAR-10", 3)):
        assert table.count(f"{dataset} could not be read, so {needing} checks") == 1
        assert table.count(f"needs {dataset} (see above)") == needing
    assert table.index("could not be read") < table.index("week2 / ")
    assert table.count(str(empty_root)) == 2  # where the kit looked, once per data set
    assert "dlkit data download mnist" in table and "dlkit data link" in table
    mnist = next(t for t in data["tests"] if t["name"] == "week2/mnist/fc_accuracy")
    assert mnist["extra_data"]["cause"] == "data MNIST" and "MNIST not found under" in mnist["output"]


def test_k_week1_does_not_collect_week2(tmp_path):
    proc = run_autograder("-k", "week1", "--co", "-q")
    assert "week2" not in proc.stdout and "deselected" not in proc.stdout
    proc = run_autograder("-k", "not week1 and vgg", "--co", "-q")
    assert "week1" not in proc.stdout and "test_vgg.py" in proc.stdout


# ---------------------------------------------------------------- the pieces, one by one


def test_stub_detection_reads_the_source(tmp_path):
    folder = tmp_path / "week2"
    folder.mkdir()
    (folder / "models.py").write_text(
        "class Net:\n"
        "    def __init__(self):\n"
        "        '''doc'''\n"
        "        super().__init__()\n"
        "        self.size = 3\n"
        "        # YOUR CODE HERE\n"
        "        raise NotImplementedError()\n"
        "def train(model):\n"
        "    if model is None:\n"
        "        return 0\n"
        "    raise NotImplementedError\n"
        "def evaluate(model):\n"
        "    try:\n"
        "        raise NotImplementedError()\n"
        "    except NotImplementedError:\n"
        "        return 1.0\n")
    module = Submission(tmp_path, "week2").load("models")
    source = module.path.read_text()
    assert unwritten(source, "Net") == ["Net.__init__"]
    assert unwritten(source, "train") == []  # may return before the raise
    assert unwritten(source, "evaluate") == []  # the raise is caught
    with pytest.raises(CheckFailure, match=r"^not implemented yet: Net.__init__ in models.py$"):
        expect_written(module, "train", "Net")
    expect_written(Submission(SOLUTIONS, "week2").load("cifar10"), "Net", "train", "evaluate")


def _result(exercise, check, status=FAILED, output="", cause="", points=1.0):
    return CheckResult("week1", exercise, check, points, points if status == PASSED else 0.0, status, output, 0,
                       cause=cause)


def test_shared_causes_name_the_file_and_count_its_checks():
    stopped = "tensor_ops.py stopped the program at import (sys.exit(0) at line 2)\nHint: ..."
    results = [_result("tensor_ops", c, output=stopped, cause="module tensor_ops.py") for c in "abc"]
    results += [_result("spiral", "d", output="MNIST not found under /x", cause="data MNIST", points=2),
                _result("spiral", "e", status=PASSED)]
    assert [str(cause) for cause in shared_causes(results)] == [
        "tensor_ops.py stopped the program at import (sys.exit(0) at line 2): none of its 3 checks could run",
        "MNIST could not be read: 1 check (2 points) needs it"]


def test_table_refers_to_a_long_message_shown_once_and_repeats_short_ones():
    long_message = "VGG() failed: a long explanation\n  at vgg.py, line 3"
    results = [_result("vgg", "a", output=long_message), _result("vgg", "b", output=long_message),
               _result("vgg", "c", output="not implemented yet: f in vgg.py"),
               _result("vgg", "d", output="not implemented yet: f in vgg.py")]
    table = format_table(results, Provenance("0", "2", "3.11", "cpu", "x86_64", "quick", 1), {})
    assert table.count("a long explanation") == 1 and "same as a above" in table
    assert table.count("not implemented yet: f in vgg.py") == 2
