"""Week 1 graded as a student's work would be: the reference, the release and realistic mistakes.

Each mistake is the reference week with one function patched (so the mistakes follow the
reference as it changes), graded by ``pytest autograder -k week1`` in a subprocess. All the
submissions are graded once, two at a time, by one module-scoped fixture.
"""

from __future__ import annotations

import pytest

from autograder.spec import load_spec
from tests.corpus import EXAMPLES, assert_verdicts_as_recorded
from tests.support import (
    assert_messages_in_both_languages,
    ASSIGNMENTS, SOLUTIONS, assert_handout_verdicts_as_kits, checks_by_name, grade_all, grade_with_oracle, lost_points,
    patched_week,
)

EXAMPLE_STUDENTS = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())

# name -> (file, [(old, new), ...]): one realistic mistake each.
MISTAKES = {
    "relu_missing": ("spiral.py", [
        ("model = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, c))",
         "model = nn.Sequential(nn.Linear(d, h), nn.Linear(h, c))"),
    ]),
    "noise_drawn_up_front": ("spiral.py", [
        ("    theta = torch.stack([\n",
         "    noise = torch.randn(n_classes * n_per_class).view(n_classes, n_per_class)\n"
         "    theta = torch.stack([\n"),
        ("+ torch.randn(n_per_class) * 0.2", "+ noise[c] * 0.2"),
    ]),
    "gradients_not_zeroed": ("spiral.py", [
        ("        opt.zero_grad()\n", ""),
    ]),
    "matvec_int64_vector": ("tensor_ops.py", [
        ("result = m @ v.to(m.dtype)", "result = m @ v"),
    ]),
    "concat_rows_wrong_dim": ("tensor_ops.py", [
        ("result = torch.cat((a, b), dim=0)", "result = torch.cat((a, b), dim=1)"),
    ]),
    "unstable_softmax": ("questions.py", [
        ("    shifted = x - x.amax(dim=dim, keepdim=True)\n    exps = shifted.exp()\n", "    exps = x.exp()\n"),
    ]),
    "syntax_error": ("questions.py", [
        ("def collapse_linear(model: nn.Sequential) -> nn.Linear:", "def collapse_linear(model: nn.Sequential) -> nn.Linear"),
    ]),
}


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("week1_submissions")
    found = {"reference": SOLUTIONS, "reference_again": SOLUTIONS, "release": ASSIGNMENTS}
    for name, (file, patches) in MISTAKES.items():
        found[name] = patched_week("week1", file, patches, root / name)
    for student in EXAMPLE_STUDENTS:  # the sample class's partial work, as its students would run it
        found[f"example_{student}"] = EXAMPLES / student
    return found


@pytest.fixture(scope="module")
def graded(submissions, tmp_path_factory) -> dict[str, dict]:
    """Results JSON of every submission, by name; ``reference`` is graded twice."""
    root = tmp_path_factory.mktemp("week1")
    results = grade_all({name: (folder, "week1") for name, folder in submissions.items()}, root)
    results["reference_bytes"] = (root / "reference.json").read_bytes()
    results["reference_again_bytes"] = (root / "reference_again.json").read_bytes()
    return results


def _by_check(data: dict) -> dict[str, dict]:
    return checks_by_name(data, full_ids=True)


def _lost(data: dict) -> dict[str, float]:
    """Check id -> points lost, for every check that did not get full marks."""
    return lost_points(data, full_ids=True)


def test_reference_scores_full_marks(graded):
    data = graded["reference"]
    week1 = load_spec()["week1"]
    declared = {f"week1/{e.name}/{c}" for e in week1.values() for c in e.public_checks}
    assert set(_by_check(data)) == declared
    assert data["score"] == data["max_score"] == sum(c.points for e in week1.values() for c in e.public_checks.values())
    assert _lost(data) == {}


def test_two_runs_give_identical_results(graded):
    assert graded["reference_bytes"] == graded["reference_again_bytes"]


def test_release_scores_zero_saying_not_implemented(graded):
    data = graded["release"]
    assert data["score"] == 0 and data["max_score"] == graded["reference"]["max_score"]
    for test in data["tests"]:
        assert test["output"].startswith("not implemented yet: "), test


def test_missing_relu(graded):
    lost = _lost(graded["relu_missing"])
    assert lost == {"week1/spiral/relu_model_structure": 1, "week1/spiral/relu_accuracy": 2}
    checks = _by_check(graded["relu_missing"])
    structure = checks["week1/spiral/relu_model_structure"]["output"]
    assert structure.startswith("relu_model() has layers Linear(2, 100) -> Linear(100, 3), "
                                "expected Linear(2, 100) -> ReLU -> Linear(100, 3)")
    accuracy = checks["week1/spiral/relu_accuracy"]["output"]
    assert accuracy.startswith("relu_model()'s accuracy on the course's spiral after 1000 full-batch Adam steps")
    assert "expected at least 0.900" in accuracy and "two Linear layers compose into one linear map" in accuracy


def test_noise_drawn_in_another_order(graded):
    data = graded["noise_drawn_up_front"]
    assert _lost(data) == {"week1/spiral/make_spiral_course_points": 2, "week1/spiral/make_spiral_other_seed": 1}
    output = _by_check(data)["week1/spiral/make_spiral_course_points"]["output"]
    assert output.startswith("make_spiral()[0], the course's points, gave ")
    assert "values differ)" in output and "one torch.randn(n_per_class) for its angles" in output


def test_gradients_not_zeroed(graded):
    data = graded["gradients_not_zeroed"]
    assert _lost(data) == {"week1/spiral/train_follows_optimizer": 2}
    output = _by_check(data)["week1/spiral/train_follows_optimizer"]["output"]
    assert output.startswith("after train(model, X, Y, optimizer='sgd', steps=10, lr=0.5, weight_decay=0.01), "
                             "the model's 0.weight differs from 10 SGD updates by up to ")
    assert "zero the gradients every step" in output


def test_matvec_with_int64_vector(graded):
    data = graded["matvec_int64_vector"]
    assert _lost(data) == {"week1/tensor_ops/matvec_integer_vector": 2}
    output = _by_check(data)["week1/tensor_ops/matvec_integer_vector"]["output"]
    assert output.startswith("your code raised RuntimeError: ") and "same dtype" in output
    assert "at tensor_ops.py, line " in output and "in matvec" in output


def test_concat_rows_along_columns(graded):
    data = graded["concat_rows_wrong_dim"]
    assert _lost(data) == {"week1/tensor_ops/concat_rows": 1}
    output = _by_check(data)["week1/tensor_ops/concat_rows"]["output"]
    assert output.startswith("concat_rows(a, b) gave shape (") and output.endswith("Hint: rows are dimension 0.")


def test_unstable_softmax(graded):
    data = graded["unstable_softmax"]
    assert _lost(data) == {"week1/questions/softmax_large_inputs": 1}
    output = _by_check(data)["week1/questions/softmax_large_inputs"]["output"]
    assert output.startswith("softmax(x) for x = [[1000, 999, 998], [-1000, -1000, -999]] gave nan values")
    assert "subtract each row's maximum" in output


def test_syntax_error_costs_only_that_files_checks(graded):
    data = graded["syntax_error"]
    lost = _lost(data)
    questions = {t["name"]: t for t in data["tests"] if t["name"].startswith("week1/questions/")}
    assert set(lost) == set(questions)
    line = next(i for i, text in enumerate((SOLUTIONS / "week1" / "questions.py").read_text().splitlines(), 1)
                if text.startswith("def collapse_linear("))
    for test in questions.values():
        assert test["score"] == 0
        assert test["output"].startswith(f"questions.py has a syntax error at line {line} (expected ':')"), test


def test_verdicts_are_those_recorded_before_the_trust_boundary(graded):
    names = ["reference", "release", *MISTAKES, *(f"example_{s}" for s in EXAMPLE_STUDENTS)]
    assert_verdicts_as_recorded(graded, {name: f"week1/{name}" for name in names})


def test_handout_gives_the_kits_verdicts(submissions, graded, tmp_path_factory):
    """Graded with the values recorded for a student's handout, every run gets the kit's verdicts, but
    for well-formed multiple-choice answers, pending there."""
    runs = {name: (folder, "week1") for name, folder in submissions.items() if name != "reference_again"}
    recorded = grade_with_oracle(runs, tmp_path_factory.mktemp("week1_recorded"), "recorded")
    assert_handout_verdicts_as_kits({name: graded[name] for name in runs}, recorded)


@pytest.mark.parametrize("name", ["release", *MISTAKES, *(f"example_{s}" for s in EXAMPLE_STUDENTS)])
def test_every_message_is_stored_as_data_and_has_a_chinese_text(graded, name):
    assert_messages_in_both_languages(graded[name])
