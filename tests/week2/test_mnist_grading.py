"""week2/mnist.py graded as a student's work would be: the reference, the release and the mistakes
the checks are built to catch.

Each mistake is the reference week with one function text-patched (so the mistakes follow the
reference as it changes), graded by ``pytest autograder -k "week2 and mnist"`` in a subprocess with
one thread. Mistakes that can change what the models learn are graded with the learning checks;
the others without them (they leave training untouched), which keeps this file near a minute.
Without the MNIST data the learning checks are left out everywhere and their assertions skipped.
Every submission is graded twice: with the live reference (the kit) and with the values recorded
for the handout, which must give each check the same status.
"""

from __future__ import annotations

import json

import pytest

from autograder.data import mnist_tensors
from autograder.spec import load_spec
from tests.corpus import assert_verdicts_as_recorded
from tests.support import (
    assert_messages_in_both_languages,
    assert_handout_verdicts_as_kits, grade_with_oracle,
    ASSIGNMENTS, ONE_THREAD, SOLUTIONS, check_output, checks_by_name, has_data, lost_points,
    patched_week, run_autograder,
)

LEARNING = ("fc_accuracy", "cnn_accuracy", "cnn_beats_fc", "permutation_hurts_cnn_more")
ALL = "week2 and mnist"
UNITS = ALL + "".join(f" and not {name}" for name in LEARNING)

# name -> (with learning checks?, [(old, new), ...]): one realistic mistake each, in mnist.py.
MISTAKES = {
    "view_hardcoded": (False, [("x = x.flatten(1)", "x = x.view(-1, 96)")]),
    "gradients_not_zeroed": (True, [("        optimizer.zero_grad()\n", "")]),
    "evaluate_in_train_mode": (False, [("    model.eval()\n", "")]),
    "evaluate_with_gradients": (False, [("    with torch.no_grad():\n        for images, labels in loader:",
                                         "    if True:\n        for images, labels in loader:")]),
    "fresh_permutation_per_batch": (True, [(
        "            images = permute_pixels(images, perm.to(device))\n        optimizer.zero_grad()",
        "            images = permute_pixels(images, torch.randperm(784).to(device))\n        optimizer.zero_grad()")]),
    "log_softmax_into_cross_entropy": (True, [("loss = F.nll_loss(model(images), labels)",
                                               "loss = F.cross_entropy(model(images), labels)")]),
    "accuracy_as_percentage": (False, [("mean_loss, accuracy = total_loss / seen, correct / seen",
                                        "mean_loss, accuracy = total_loss / seen, 100.0 * correct / seen")]),
}


HAS_DATA = has_data(mnist_tensors)
needs_data = pytest.mark.skipif(not HAS_DATA, reason="MNIST is not in the data root; learning checks not run")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple]:
    """Every submission as ``name -> (folder, selection)``."""
    root = tmp_path_factory.mktemp("week2_mnist_submissions")
    runs = {"reference": (SOLUTIONS, ALL if HAS_DATA else UNITS), "release": (ASSIGNMENTS, ALL)}
    for name, (learning, patches) in MISTAKES.items():
        runs[name] = (patched_week("week2", "mnist.py", patches, root / name),
                      ALL if learning and HAS_DATA else UNITS)
    return runs


@pytest.fixture(scope="module")
def graded(runs, tmp_path_factory) -> dict[str, dict]:
    """Results JSON of every submission graded with the live reference, by name."""
    return grade_with_oracle(runs, tmp_path_factory.mktemp("week2_mnist_live"), "live")


@pytest.fixture(scope="module")
def graded_recorded(runs, tmp_path_factory) -> dict[str, dict]:
    """Results JSON of every submission graded with the recorded values, as in a student's handout."""
    return grade_with_oracle(runs, tmp_path_factory.mktemp("week2_mnist_recorded"), "recorded")


def test_reference_scores_full_marks(graded):
    data = graded["reference"]
    declared = load_spec()["week2"]["mnist"].checks
    expected = set(declared) if HAS_DATA else set(declared) - set(LEARNING)
    assert set(checks_by_name(data)) == expected
    assert lost_points(data) == {}, [t["output"] for t in data["tests"] if t["status"] != "passed"]
    assert data["score"] == data["max_score"] == sum(declared[c].points for c in expected)


def test_release_scores_zero_saying_not_implemented(graded):
    data = graded["release"]
    assert data["score"] == 0 and data["max_score"] == sum(c.points for c in load_spec()["week2"]["mnist"].checks.values())
    for test in data["tests"]:
        if test["max_score"] > 0:
            assert test["output"].startswith("not implemented yet: ") or ": not implemented yet: " in test["output"], test


def test_hard_coded_view_fails_only_for_other_sizes(graded):
    data = graded["view_hardcoded"]
    assert lost_points(data) == {"cnn_other_sizes": 2}
    output = check_output(data, "cnn_other_sizes")
    assert output.startswith("CNN(1024, 4, 7) with the reference's weights, on a (6, 1, 32, 32) batch: "
                             "your code raised RuntimeError: shape '[-1, 96]' is invalid")
    assert "x = x.view(-1, 96)" in output and "6*4*4 = 96 holds only for 28x28 images" in output


def test_gradients_not_zeroed(graded):
    data = graded["gradients_not_zeroed"]
    lost = lost_points(data)
    expected = {"train_epoch_matches_reference": 3}
    if HAS_DATA:   # the gradient sum grows every step and training diverges: about 10% accuracy
        expected.update({"fc_accuracy": 2, "cnn_accuracy": 2, "cnn_beats_fc": 1, "permutation_hurts_cnn_more": 2})
    assert lost == expected
    output = check_output(data, "train_epoch_matches_reference")
    assert output.startswith("train_epoch(model, loader, optimizer, device) let gradients accumulate from batch "
                             "to batch: the parameters match a loop without optimizer.zero_grad()")
    if HAS_DATA:
        assert "the test accuracy of your CNN(784, 6, 10) after one pass over 14,000 training images" in \
            check_output(data, "cnn_accuracy")


def test_evaluate_in_train_mode(graded):
    data = graded["evaluate_in_train_mode"]
    assert lost_points(data) == {"evaluate_uses_eval_mode": 1}
    assert check_output(data, "evaluate_uses_eval_mode").startswith(
        "evaluate(model, loader, device) ran the model in training mode")
    assert "call model.eval() before the test loop" in check_output(data, "evaluate_uses_eval_mode")


def test_evaluate_with_gradients(graded):
    data = graded["evaluate_with_gradients"]
    assert lost_points(data) == {"evaluate_without_gradients": 1}
    output = check_output(data, "evaluate_without_gradients")
    assert output.startswith("evaluate(model, loader, device) ran the model with gradient tracking on")
    assert "torch.no_grad()" in output


def test_fresh_permutation_per_batch(graded):
    data = graded["fresh_permutation_per_batch"]
    expected = {"train_epoch_permutes_every_batch": 1}
    if HAS_DATA:   # the FC net can no longer learn from permuted pixels: far more than the allowed drop
        expected["permutation_hurts_cnn_more"] = 2
    assert lost_points(data) == expected
    output = check_output(data, "train_epoch_permutes_every_batch")
    assert output.startswith("train_epoch(model, loader, optimizer, device, perm): batch 1 reached the model with "
                             "its pixels in an order other than perm")
    assert "do not draw a new permutation inside the loop" in output
    if HAS_DATA:
        assert check_output(data, "permutation_hurts_cnn_more").startswith("permuting the pixels cost your FC2Layer ")


def test_log_softmax_into_cross_entropy_is_not_a_mistake(graded):
    # cross_entropy(log_softmax(z)) == nll_loss(log_softmax(z)): log_softmax of log-probabilities
    # changes nothing (softmax ignores a per-row constant), so losses and gradients are the same.
    assert lost_points(graded["log_softmax_into_cross_entropy"]) == {}


def test_accuracy_as_percentage(graded):
    data = graded["accuracy_as_percentage"]
    assert lost_points(data) == {"evaluate_loss_and_accuracy": 2}
    assert "a percentage; expected a fraction in [0, 1]" in check_output(data, "evaluate_loss_and_accuracy")


PARTIAL_MNIST = HAS_DATA and mnist_tensors(True)[0].shape[0] < 60_000


@pytest.mark.skipif(not PARTIAL_MNIST, reason="needs a data root with fewer than 60,000 MNIST training images")
def test_full_profile_says_it_needs_all_of_mnist(tmp_path):
    results = tmp_path / "full.json"
    run_autograder("-k", "week2 and mnist and fc_accuracy", "--profile", "full", submission=SOLUTIONS,
                   results=results, env=ONE_THREAD)
    data = json.loads(results.read_text())
    assert lost_points(data) == {"fc_accuracy": 2}
    held = mnist_tensors(True)[0].shape[0]
    assert check_output(data, "fc_accuracy").startswith(
        f"this profile trains on the full MNIST training set (60,000 images), but the data root holds {held:,}")


def test_verdicts_are_those_recorded_before_the_trust_boundary(graded):
    entries = {name: f"week2/mnist/{name}" for name in MISTAKES}
    entries.update(reference="week2/reference", release="week2/release")
    assert_verdicts_as_recorded(graded, entries)


def test_handout_gives_the_kits_verdicts(graded, graded_recorded):
    """No submission here differs: where the handout has no course model (the gradients compared with
    the course's model's, the test accuracy of trained weights), the checks take the student's process
    at its word, and no submission here tells the two apart."""
    assert_handout_verdicts_as_kits(graded, graded_recorded)


@pytest.mark.parametrize("oracle", ["graded", "graded_recorded"])
@pytest.mark.parametrize("name", ["release", *MISTAKES])
def test_every_message_is_stored_as_data_and_has_a_chinese_text(request, oracle, name):
    assert_messages_in_both_languages(request.getfixturevalue(oracle)[name])
