"""week2/questions.py graded as a student's work would be: the reference, the untouched release and
common mistakes, including the wrong claims the multiple-choice questions are built around.

Each mistake is the reference week with ``questions.py`` text-patched, graded by
``pytest autograder -k "week2 and test_questions"`` in a subprocess with one thread.
"""

from __future__ import annotations

import pytest

from autograder.spec import load_spec
from tests.corpus import assert_verdicts_as_recorded
from tests.support import (
    assert_messages_in_both_languages,
    assert_handout_verdicts_as_kits, grade_with_oracle,
    ASSIGNMENTS, SOLUTIONS, check_output, declared_points, grade_all, lost_points, patched_week,
)

SELECTION = "week2 and test_questions"

ORDERS = "    result = [[int(i) for batch in loader for i in batch] for _ in range(epochs)]\n"

# Mistakes, each in its own function, so several share one submission (fewer pytest runs).
DROP_LAST_IGNORED = ("    if drop_last:\n        result = n_samples // batch_size\n    else:\n"
                     "        result = math.ceil(n_samples / batch_size)\n",
                     "    result = math.ceil(n_samples / batch_size)\n")
PADDING_COUNTED_ONCE = ("result = (size + 2 * padding - kernel) // stride + 1",
                        "result = (size + padding - kernel) // stride + 1")
FLOAT_DIVISION = ("result = (size + 2 * padding - kernel) // stride + 1",
                  "result = (size + 2 * padding - kernel) / stride + 1")
WEIGHT_TRANSPOSED = ("result.weight.copy_(linear.weight.view(out_features, in_features, 1, 1))",
                     "result.weight.copy_(linear.weight.t().reshape(out_features, in_features, 1, 1))")
RANDPERM = (ORDERS, "    result = [torch.randperm(n, generator=generator).tolist() "
                    "if shuffle else list(range(n)) for _ in range(epochs)]\n")
GLOBAL_RANDOM_STATE = ("    loader = DataLoader(range(n), batch_size=16, shuffle=shuffle, generator=generator)\n",
                       "    loader = DataLoader(range(n), batch_size=16, shuffle=shuffle)\n")
# The wrong claims from the course: an integer `shuffle` seeds the order; Adam always beats SGD.
INTEGER_SHUFFLE_SEEDS = ('ANSWER_SHUFFLE = "c"', 'ANSWER_SHUFFLE = "a"')
ADAM_ALWAYS_WINS = ('ANSWER_IMPROVE = "b"', 'ANSWER_IMPROVE = "a"')

# submission name -> [(old, new), ...] in questions.py
MISTAKES = {
    "mistakes_a": [DROP_LAST_IGNORED, PADDING_COUNTED_ONCE, WEIGHT_TRANSPOSED, RANDPERM, INTEGER_SHUFFLE_SEEDS],
    "mistakes_b": [FLOAT_DIVISION, GLOBAL_RANDOM_STATE, ADAM_ALWAYS_WINS],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple]:
    root = tmp_path_factory.mktemp("week2_questions_submissions")
    found = {"reference": (SOLUTIONS, SELECTION), "release": (ASSIGNMENTS, SELECTION)}
    for name, patches in MISTAKES.items():
        found[name] = (patched_week("week2", "questions.py", patches, root / name), SELECTION)
    return found


@pytest.fixture(scope="module")
def graded(runs, tmp_path_factory) -> dict[str, dict]:
    return grade_all(runs, tmp_path_factory.mktemp("week2_questions"))


def test_handout_gives_the_kits_verdicts(runs, graded, tmp_path_factory):
    """With the recorded values (the shuffled orders a DataLoader yields), every verdict is the kit's,
    but for well-formed multiple-choice answers, pending there."""
    recorded = grade_with_oracle(runs, tmp_path_factory.mktemp("week2_questions_recorded"), "recorded")
    assert_handout_verdicts_as_kits(graded, recorded)


def _points(*checks: str) -> dict[str, float]:
    return declared_points("week2", "questions", *checks)


def test_reference_scores_full_marks(graded):
    data = graded["reference"]
    declared = load_spec()["week2"]["questions"].checks
    assert {t["name"].split("/")[-1] for t in data["tests"]} == set(declared)
    assert lost_points(data) == {}, [t["output"] for t in data["tests"] if t["status"] != "passed"]
    assert data["score"] == data["max_score"] == sum(c.points for c in declared.values())


def test_release_scores_zero_saying_not_implemented(graded):
    data = graded["release"]
    assert data["score"] == 0
    for test in data["tests"]:
        assert test["output"].startswith("not implemented yet: "), test


def test_every_mistake_loses_exactly_its_checks(graded):
    assert lost_points(graded["mistakes_a"]) == _points("iterations_per_epoch", "conv_output_size_matches_conv2d",
                                                  "linear_as_conv1x1", "epoch_orders_with_shuffle", "answer_shuffle")
    assert lost_points(graded["mistakes_b"]) == _points("conv_output_size_matches_conv2d", "epoch_orders_with_shuffle",
                                                  "epoch_orders_reproducible", "answer_improve")


def test_drop_last_ignored(graded):
    assert "drop_last=True) gave " in check_output(graded["mistakes_a"], "iterations_per_epoch")


def test_conv_output_size_as_a_float(graded):
    output = check_output(graded["mistakes_b"], "conv_output_size_matches_conv2d")
    assert output.startswith("conv_output_size(32, kernel=5, padding=0, stride=1) gave a float, expected an int")


def test_transposed_weight(graded):
    output = check_output(graded["mistakes_a"], "linear_as_conv1x1")
    assert output.startswith("linear_as_conv1x1(nn.Linear(") and " applied to a float64 (" in output


def test_randperm_is_not_what_a_dataloader_yields(graded):
    assert "Hint: your orders are torch.randperm draws" in check_output(graded["mistakes_a"], "epoch_orders_with_shuffle")


def test_unseeded_loader_is_not_reproducible(graded):
    assert "gave different orders on a second call" in check_output(graded["mistakes_b"], "epoch_orders_reproducible")


@pytest.mark.parametrize("submission, check, name", [
    ("mistakes_a", "answer_shuffle", "ANSWER_SHUFFLE"),
    ("mistakes_b", "answer_improve", "ANSWER_IMPROVE"),
])
def test_course_wrong_claims_lose_their_points(graded, submission, check, name):
    assert check_output(graded[submission], check).startswith(f"{name} = 'a' is not the right answer")


def test_verdicts_are_those_recorded_before_the_trust_boundary(graded):
    entries = {name: f"week2/questions/{name}" for name in MISTAKES}
    entries.update(reference="week2/reference", release="week2/release")
    assert_verdicts_as_recorded(graded, entries)


@pytest.mark.parametrize("name", ["release", *MISTAKES])
def test_every_message_is_stored_as_data_and_has_a_chinese_text(graded, name):
    assert_messages_in_both_languages(graded[name])
