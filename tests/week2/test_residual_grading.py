"""week2/residual.py graded as a student's work would be: the reference, the untouched release and the
mistakes the checks are built to catch, above all the shortcut without a projection.

Each mistake is the reference week with ``residual.py`` text-patched, graded by
``pytest autograder -k "week2 and test_residual"`` in a subprocess with one thread, two at a time.
The comparison with ``Net`` trains for ~10 s of CPU per submission, so it runs for the reference,
the release (which fails before training) and one network too weak to win; without the CIFAR-10
data it is left out everywhere. Every run is graded twice: with the live oracle (the kit) and with
the values recorded for a student's handout (``autograder/recorded/week2/residual.pt``), which must
give each check the same verdict.
"""

from __future__ import annotations

import pytest

from autograder.data import cifar10_tensors
from autograder.spec import load_spec
from tests.corpus import assert_verdicts_as_recorded
from tests.support import (
    assert_messages_in_both_languages,
    assert_handout_verdicts_as_kits, grade_with_oracle,
    ASSIGNMENTS, SOLUTIONS, check_output, checks_by_name, declared_points, has_data,
    lost_points, patched_week,
)

ALL = "week2 and test_residual"
UNITS = ALL + " and not beats_net"

SHORTCUT = '''        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        else:
            self.shortcut = nn.Identity()
'''
ALWAYS_PROJECTION = '''        self.shortcut = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
            nn.BatchNorm2d(out_channels),
        )
'''
STEM_TO_HEAD = SOLUTIONS.joinpath("week2", "residual.py").read_text().split("        ### BEGIN SOLUTION\n")[3] \
    .split("        ### END SOLUTION\n")[0]
FORWARD = SOLUTIONS.joinpath("week2", "residual.py").read_text().split("        ### BEGIN SOLUTION\n")[4] \
    .split("        ### END SOLUTION\n")[0]

# name -> (with the comparison?, [(old, new), ...]) in residual.py
MISTAKES = {
    # The mistake question 7 is about: the identity shortcut everywhere.
    "no_projection": (False, [(SHORTCUT, "        self.shortcut = nn.Identity()\n")]),
    # A projection even where the shapes match: parameters the identity does not need.
    "always_projection": (False, [(SHORTCUT, ALWAYS_PROJECTION)]),
    # Projection without the stride: right channels, wrong height and width.
    "projection_without_stride": (False, [("kernel_size=1, stride=stride, bias=False", "kernel_size=1, bias=False")]),
    # ReLU before the addition instead of after it.
    "relu_before_addition": (False, [("        out = self.bn2(self.conv2(out))\n        out = F.relu(out + self.shortcut(x))\n",
                                      "        out = F.relu(self.bn2(self.conv2(out)))\n        out = out + self.shortcut(x)\n")]),
    # A "residual network" of one narrow block: far too weak to beat Net.
    "too_weak": (True, [(STEM_TO_HEAD, "        self.block = ResidualBlock(3, 4, stride=4)\n"
                                       "        self.head = nn.Linear(4, num_classes)\n"),
                        (FORWARD, "        out = self.head(F.adaptive_avg_pool2d(self.block(x), 1).flatten(1))\n")]),
}

HAS_DATA = has_data(cifar10_tensors)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple]:
    """Every submission to grade, by name: (submission folder, ``-k`` selection)."""
    root = tmp_path_factory.mktemp("week2_residual_submissions")
    runs = {"reference": (SOLUTIONS, ALL if HAS_DATA else UNITS), "release": (ASSIGNMENTS, ALL)}
    for name, (comparison, patches) in MISTAKES.items():
        runs[name] = (patched_week("week2", "residual.py", patches, root / name),
                      ALL if comparison and HAS_DATA else UNITS)
    return runs


@pytest.fixture(scope="module")
def graded(runs, tmp_path_factory) -> dict[str, dict]:
    """Results JSON of every submission, by name, graded with the live oracle (the kit's)."""
    return grade_with_oracle(runs, tmp_path_factory.mktemp("week2_residual_live"), "live")


@pytest.fixture(scope="module")
def graded_recorded(runs, tmp_path_factory) -> dict[str, dict]:
    """Results JSON of every submission, by name, graded as in a student's handout: recorded oracle."""
    return grade_with_oracle(runs, tmp_path_factory.mktemp("week2_residual_recorded"), "recorded")


def _points(*checks: str) -> dict[str, float]:
    return declared_points("week2", "residual", *checks)


def test_reference_scores_full_marks(graded):
    data = graded["reference"]
    declared = load_spec()["week2"]["residual"].checks
    expected = set(declared) if HAS_DATA else set(declared) - {"small_resnet_beats_net"}
    assert set(checks_by_name(data)) == expected
    assert lost_points(data) == {}, [t["output"] for t in data["tests"] if t["status"] != "passed"]
    assert data["score"] == data["max_score"] == sum(declared[c].points for c in expected)


def test_release_scores_zero_saying_not_implemented(graded):
    data = graded["release"]
    assert data["score"] == 0
    for test in data["tests"]:
        assert test["output"] in ("not implemented yet: ResidualBlock.__init__ in residual.py",
                                  "not implemented yet: SmallResNet.__init__ in residual.py"), test


def test_shortcut_without_projection_is_named(graded):
    data = graded["no_projection"]
    assert lost_points(data) == _points("block_output_shapes", "projection_shortcut_when_shape_changes",
                                  "block_computes_residual", "gradients_reach_every_parameter",
                                  "small_resnet_logits")
    for check in ("block_output_shapes", "block_computes_residual", "gradients_reach_every_parameter"):
        output = check_output(data, check)
        assert ": adding the shortcut to the main path failed: the main path gives (" in output, output
        assert "but the shortcut gives (" in output and "Hint: when stride != 1 or in_channels != out_channels" in output
    assert "adding the shortcut to the main path failed in its ResidualBlock(16, 32, stride=2)" in \
        check_output(data, "small_resnet_logits")
    assert ".shortcut has no Conv2d, expected a 1x1 nn.Conv2d(" in check_output(data, "projection_shortcut_when_shape_changes")


def test_projection_where_identity_fits(graded):
    data = graded["always_projection"]
    assert lost_points(data) == _points("identity_shortcut_has_no_parameters", "block_computes_residual")
    assert ".shortcut has " in check_output(data, "identity_shortcut_has_no_parameters")
    assert "parameters, expected none" in check_output(data, "identity_shortcut_has_no_parameters")


def test_projection_without_stride(graded):
    data = graded["projection_without_stride"]
    assert "projection_shortcut_when_shape_changes" in lost_points(data)
    assert "stride=(1, 1)), expected a 1x1 nn.Conv2d(" in check_output(data, "projection_shortcut_when_shape_changes")
    assert "adding the shortcut to the main path failed" in check_output(data, "block_output_shapes")


def test_relu_before_addition(graded):
    data = graded["relu_before_addition"]
    assert lost_points(data) == _points("block_computes_residual")
    assert "the last ReLU comes after the addition" in check_output(data, "block_computes_residual")


@pytest.mark.skipif(not HAS_DATA, reason="CIFAR-10 is not available here")
def test_weak_network_does_not_beat_net(graded):
    data = graded["too_weak"]
    assert lost_points(data) == _points("small_resnet_beats_net")
    output = check_output(data, "small_resnet_beats_net")
    assert "your SmallResNet's test accuracy was" in output and "and the course's Net's" in output, output


def test_verdicts_are_those_recorded_before_the_trust_boundary(graded):
    entries = {name: f"week2/residual/{name}" for name in MISTAKES}
    entries.update(reference="week2/reference", release="week2/release")
    assert_verdicts_as_recorded(graded, entries)


def test_recorded_oracle_gives_the_live_verdicts(graded, graded_recorded):
    """No check takes the worker's word only in the handout: the comparison with ``Net`` measures
    ``SmallResNet`` from the worker's scores in both, and ``Net``'s accuracy is recorded for the check's seed."""
    assert_handout_verdicts_as_kits(graded, graded_recorded)


@pytest.mark.parametrize("oracle", ["graded", "graded_recorded"])
@pytest.mark.parametrize("name", ["release", *MISTAKES])
def test_every_message_is_stored_as_data_and_has_a_chinese_text(request, oracle, name):
    assert_messages_in_both_languages(request.getfixturevalue(oracle)[name])
