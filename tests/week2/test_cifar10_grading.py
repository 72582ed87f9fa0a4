"""week2/cifar10.py graded as a student's work would be: the reference, the release and the mistakes
the checks are built to catch.

Each mistake is the reference week with one function text-patched, graded by
``pytest autograder -k "week2 and cifar10"`` in a subprocess with one thread. Mistakes that can
change what ``Net`` learns are graded with the learning check; the others without it. Without
the CIFAR-10 data the learning check is left out everywhere and its assertions skipped.

Every run is graded twice: with the live oracle (the kit) and with the values recorded for a
student's handout (``autograder/recorded/week2/cifar10.pt``); each check must come out the same.
"""

from __future__ import annotations

import pytest

from autograder.data import cifar10_tensors
from autograder.spec import load_spec
from tests.corpus import assert_verdicts_as_recorded
from tests.support import (
    assert_messages_in_both_languages,
    assert_handout_verdicts_as_kits, grade_with_oracle,
    ASSIGNMENTS, SOLUTIONS, check_output, checks_by_name, has_data,
    lost_points, patched_week,
)

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

HAS_DATA = has_data(cifar10_tensors)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple]:
    """Every submission by name: (its folder, the checks it is graded with)."""
    root = tmp_path_factory.mktemp("week2_cifar10_submissions")
    runs = {"reference": (SOLUTIONS, ALL if HAS_DATA else UNITS), "release": (ASSIGNMENTS, ALL)}
    for name, (learning, patches) in MISTAKES.items():
        runs[name] = (patched_week("week2", "cifar10.py", patches, root / name),
                      ALL if learning and HAS_DATA else UNITS)
    return runs


@pytest.fixture(scope="module")
def graded(runs, tmp_path_factory) -> dict[str, dict]:
    """Results JSON of every submission, by name, graded with the live oracle."""
    return grade_with_oracle(runs, tmp_path_factory.mktemp("week2_cifar10_live"), "live")


@pytest.fixture(scope="module")
def graded_recorded(runs, tmp_path_factory) -> dict[str, dict]:
    """The same, graded with the values recorded for a student's handout."""
    return grade_with_oracle(runs, tmp_path_factory.mktemp("week2_cifar10_recorded"), "recorded")


def test_reference_scores_full_marks(graded):
    data = graded["reference"]
    declared = load_spec()["week2"]["cifar10"].checks
    expected = set(declared) if HAS_DATA else set(declared) - {"net_accuracy"}
    assert set(checks_by_name(data)) == expected
    assert lost_points(data) == {}, [t["output"] for t in data["tests"] if t["status"] != "passed"]
    assert data["score"] == data["max_score"] == sum(declared[c].points for c in expected)


def test_release_scores_zero_saying_not_implemented(graded):
    data = graded["release"]
    assert data["score"] == 0
    for test in data["tests"]:
        if test["max_score"] > 0:
            assert test["output"].startswith("not implemented yet: ") or ": not implemented yet: " in test["output"], test


def test_test_set_normalised_differently_from_training(graded):
    data = graded["test_normalised_differently"]
    assert lost_points(data) == {"test_normalisation_matches_training": 2}
    output = check_output(data, "test_normalisation_matches_training")
    assert output.startswith("test_transform() normalises with mean (0.4914, 0.4822, 0.4465), std (0.2023, 0.1994, "
                             "0.201), but train_transform() with mean (0.5, 0.5, 0.5), std (0.5, 0.5, 0.5)")


def test_nll_loss_on_logits(graded):
    data = graded["nll_loss_on_logits"]
    expected = {"train_matches_reference": 3}
    if HAS_DATA:   # -logit[label] has no minimum: the logits run away and nothing useful is learnt
        expected["net_accuracy"] = 3
    assert lost_points(data) == expected
    assert check_output(data, "train_matches_reference").startswith(
        "train(model, loader, epochs=2, device, lr=0.002) trained with nll_loss on Net's logits")


def test_log_softmax_output_fed_to_cross_entropy(graded):
    # Training is unchanged (cross_entropy(log_softmax(z)) == cross_entropy(z)), but Net's contract is
    # logits, so the two output checks fail and name log_softmax.
    data = graded["log_softmax_net_into_cross_entropy"]
    assert lost_points(data) == {"net_logits": 1, "net_matches_reference": 2}
    assert check_output(data, "net_logits").startswith("Net() on a (5, 3, 32, 32) batch gave normalised (log-)probabilities")
    assert "log_softmax (or a similar normalisation) was applied" in check_output(data, "net_matches_reference")


def test_evaluate_in_train_mode(graded):
    data = graded["evaluate_in_train_mode"]
    assert lost_points(data) == {"evaluate_eval_mode_without_gradients": 1}
    assert "ran the model in training mode" in check_output(data, "evaluate_eval_mode_without_gradients")


def test_verdicts_are_those_recorded_before_the_trust_boundary(graded):
    entries = {name: f"week2/cifar10/{name}" for name in MISTAKES}
    entries.update(reference="week2/reference", release="week2/release")
    assert_verdicts_as_recorded(graded, entries)


def test_recorded_oracle_gives_the_live_verdicts(graded, graded_recorded):
    # Where the handout takes the worker's word (no mirror: the gradients' values, the trained
    # weights' accuracy), no submission here tells the two apart, so no check is exempt.
    assert_handout_verdicts_as_kits(graded, graded_recorded)


@pytest.mark.parametrize("oracle", ["graded", "graded_recorded"])
@pytest.mark.parametrize("name", ["release", *MISTAKES])
def test_every_message_is_stored_as_data_and_has_a_chinese_text(request, oracle, name):
    assert_messages_in_both_languages(request.getfixturevalue(oracle)[name])
