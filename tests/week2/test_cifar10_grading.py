"""week2/cifar10.py graded as a student's work would be: the reference, the release and the mistakes
the checks are built to catch.

Each mistake is the reference week with one function text-patched, graded by
``pytest autograder -k "week2 and cifar10"`` in a subprocess with one thread. Mistakes that can
change what ``Net`` learns are graded with the learning check; the others without it. Without
the CIFAR-10 data the learning check is left out everywhere and its assertions skipped.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder.data import DataError, cifar10_tensors
from autograder.settings import KIT_ROOT
from autograder.spec import load_spec
from tests.support import copy_week, patch_file, run_autograder

SOLUTIONS = KIT_ROOT / "solutions"
ASSIGNMENTS = KIT_ROOT / "assignments"
ONE_THREAD = {"DLKIT_THREADS": "1"}
ALL = "week2 and cifar10"
UNITS = ALL + " and not net_accuracy"

TEST_TRANSFORM = '''    """The transform for test images. The model must see test images scaled as in training."""
    ### BEGIN SOLUTION
    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),'''

# name -> (with the learning check?, [(old, new), ...]): one realistic mistake each, in cifar10.py.
MISTAKES = {
    "test_normalised_differently": (False, [(
        TEST_TRANSFORM,
        TEST_TRANSFORM.replace("(0.5, 0.5, 0.5), (0.5, 0.5, 0.5)", "(0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)"),
    )]),
    "nll_loss_on_logits": (True, [("criterion = nn.CrossEntropyLoss()", "criterion = nn.NLLLoss()")]),
    "log_softmax_net_into_cross_entropy": (True, [("        logits = self.fc3(x)\n",
                                                   "        logits = torch.log_softmax(self.fc3(x), dim=1)\n")]),
    "evaluate_in_train_mode": (False, [("    model.eval()\n    correct, seen = 0, 0\n", "    correct, seen = 0, 0\n")]),
}


def _has_data() -> bool:
    try:
        cifar10_tensors(True)
        return True
    except DataError:
        return False


HAS_DATA = _has_data()


def _grade(submission: Path, selection: str, results: Path) -> dict:
    proc = run_autograder("-k", selection, submission=submission, results=results, env=ONE_THREAD)
    if not results.exists():
        raise AssertionError(f"no results written (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return json.loads(results.read_text())


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    """Results JSON of every submission, by name."""
    root = tmp_path_factory.mktemp("week2_cifar10")
    runs = {"reference": (SOLUTIONS, ALL if HAS_DATA else UNITS), "release": (ASSIGNMENTS, ALL)}
    for name, (learning, patches) in MISTAKES.items():
        folder = copy_week(SOLUTIONS, "week2", root / name)
        for old, new in patches:
            patch_file(folder / "week2" / "cifar10.py", old, new)
        runs[name] = (folder, ALL if learning and HAS_DATA else UNITS)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_grade, folder, selection, root / f"{name}.json")
                   for name, (folder, selection) in runs.items()}
        return {name: future.result() for name, future in futures.items()}


def _by_check(data: dict) -> dict[str, dict]:
    return {t["name"].split("/")[-1]: t for t in data["tests"]}


def _lost(data: dict) -> dict[str, float]:
    return {t["name"].split("/")[-1]: t["max_score"] - t["score"] for t in data["tests"] if t["score"] < t["max_score"]}


def _output(data: dict, check: str) -> str:
    return _by_check(data)[check]["output"]


def test_reference_scores_full_marks(graded):
    data = graded["reference"]
    declared = load_spec()["week2"]["cifar10"].checks
    expected = set(declared) if HAS_DATA else set(declared) - {"net_accuracy"}
    assert set(_by_check(data)) == expected
    assert _lost(data) == {}, [t["output"] for t in data["tests"] if t["status"] != "passed"]
    assert data["score"] == data["max_score"] == sum(declared[c].points for c in expected)


def test_release_scores_zero_saying_not_implemented(graded):
    data = graded["release"]
    assert data["score"] == 0
    for test in data["tests"]:
        if test["max_score"] > 0:
            assert test["output"].startswith("not implemented yet: ") or ": not implemented yet: " in test["output"], test


def test_test_set_normalised_differently_from_training(graded):
    data = graded["test_normalised_differently"]
    assert _lost(data) == {"test_normalisation_matches_training": 2}
    output = _output(data, "test_normalisation_matches_training")
    assert output.startswith("test_transform() normalises with mean (0.4914, 0.4822, 0.4465), std (0.2023, 0.1994, "
                             "0.201), but train_transform() with mean (0.5, 0.5, 0.5), std (0.5, 0.5, 0.5)")


def test_nll_loss_on_logits(graded):
    data = graded["nll_loss_on_logits"]
    expected = {"train_matches_reference": 3}
    if HAS_DATA:   # -logit[label] has no minimum: the logits run away and nothing useful is learnt
        expected["net_accuracy"] = 3
    assert _lost(data) == expected
    assert _output(data, "train_matches_reference").startswith(
        "train(model, loader, epochs=2, device, lr=0.002) trained with nll_loss on Net's logits")


def test_log_softmax_output_fed_to_cross_entropy(graded):
    # Training is unchanged (cross_entropy(log_softmax(z)) == cross_entropy(z)), but Net's contract is
    # logits, so the two output checks fail and name log_softmax.
    data = graded["log_softmax_net_into_cross_entropy"]
    assert _lost(data) == {"net_logits": 1, "net_matches_reference": 2}
    assert _output(data, "net_logits").startswith("Net() on a (5, 3, 32, 32) batch gave normalised (log-)probabilities")
    assert "log_softmax (or a similar normalisation) was applied" in _output(data, "net_matches_reference")


def test_evaluate_in_train_mode(graded):
    data = graded["evaluate_in_train_mode"]
    assert _lost(data) == {"evaluate_eval_mode_without_gradients": 1}
    assert "ran the model in training mode" in _output(data, "evaluate_eval_mode_without_gradients")
