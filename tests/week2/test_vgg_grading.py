"""week2/vgg.py graded as a student's work would be: the reference, the untouched release, each of the
lab's two bugs alone, and mistakes whose messages must come from the student's own model.

Each variant is the reference week with ``vgg.py`` text-patched, graded by
``pytest autograder -k "week2 and test_vgg"`` in a subprocess with one thread, two at a time.
Only the reference and the release run the learning check (the reference trains ~6 s of CPU;
every variant here fails before training); without the CIFAR-10 data the reference leaves it
out. Every run is graded twice: with the live oracle (the kit) and with the values recorded for a
student's handout (``autograder/recorded/week2/vgg.pt``), which must give each check the same verdict.
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

ALL = "week2 and test_vgg"
UNITS = ALL + " and not learns"

FEATURES = "self.features = self._make_layers(self.cfg)  ### RELEASE AS: self.features = self._make_layers(cfg)"
CLASSIFIER = "self.classifier = nn.Linear(512, 10)  ### RELEASE AS: self.classifier = nn.Linear(2048, 10)"
CFG = "self.cfg = [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M']"

# name -> [(old, new), ...] in vgg.py
VARIANTS = {
    # The lab's classifier bug alone: VGG() builds, its forward fails.
    "only_cfg_fixed": [(CLASSIFIER, "self.classifier = nn.Linear(2048, 10)")],
    # The lab's cfg bug alone: VGG() does not build.
    "only_classifier_fixed": [(FEATURES, "self.features = self._make_layers(cfg)")],
    # Another undefined name, stored under another attribute: the message follows the error.
    "other_undefined_name": [(CFG, CFG.replace("self.cfg", "self.config")),
                             (FEATURES, "self.features = self._make_layers(config)")],
    # Three independent mistakes in one submission (one pytest run): one max-pool fewer (a 32x32
    # image leaves 512 x 2 x 2 = 2048 values, the classifier takes 512); the dummy pass of
    # flattened_size in training mode (batch norm's running statistics move); no augmentation.
    "three_mistakes": [(CFG, CFG.replace("512, 512, 'M']", "512, 512]")),
                       ("    features.eval()  # batch norm in eval mode: no statistics updated by the dummy input\n",
                        ""),
                       ("        transforms.RandomCrop(32, padding=4),\n"
                        "        transforms.RandomHorizontalFlip(),\n", "")],
}

HAS_DATA = has_data(cifar10_tensors)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple]:
    """Every submission as ``name -> (folder, -k selection)``."""
    root = tmp_path_factory.mktemp("week2_vgg")
    runs = {"reference": (SOLUTIONS, ALL if HAS_DATA else UNITS), "release": (ASSIGNMENTS, ALL)}
    for name, patches in VARIANTS.items():
        runs[name] = (patched_week("week2", "vgg.py", patches, root / name), UNITS)
    return runs


@pytest.fixture(scope="module")
def graded(runs, tmp_path_factory) -> dict[str, dict]:
    """Results JSON of every submission, by name, graded with the live oracle (the kit's)."""
    return grade_with_oracle(runs, tmp_path_factory.mktemp("week2_vgg_live"), "live")


@pytest.fixture(scope="module")
def graded_recorded(runs, tmp_path_factory) -> dict[str, dict]:
    """Results JSON of every submission, by name, graded as in a student's handout: recorded oracle."""
    return grade_with_oracle(runs, tmp_path_factory.mktemp("week2_vgg_recorded"), "recorded")


def _points(*checks: str) -> dict[str, float]:
    return declared_points("week2", "vgg", *checks)


CFG_MESSAGE = ("VGG() failed: `_make_layers(cfg)` uses a name `cfg` that is not defined in __init__ — the "
               "configuration is stored on the instance as self.cfg")
SHAPE_MESSAGE = "your classifier expects 2048 features but the feature extractor gives 512 for a 32x32 input"
BUILDS_MODEL = ("constructs", "output_shape", "parameters_match_reference", "matches_reference",
                "gradients_reach_every_parameter")
RUNS_MODEL = ("output_shape", "matches_reference", "gradients_reach_every_parameter")


def test_reference_scores_full_marks(graded):
    data = graded["reference"]
    declared = load_spec()["week2"]["vgg"].checks
    expected = set(declared) if HAS_DATA else set(declared) - {"learns"}
    assert set(checks_by_name(data)) == expected
    assert lost_points(data) == {}, [t["output"] for t in data["tests"] if t["status"] != "passed"]
    assert data["score"] == data["max_score"] == sum(declared[c].points for c in expected)


def test_release_scores_zero_with_the_bug_or_not_implemented(graded):
    data = graded["release"]
    assert data["score"] == 0
    for check in (*BUILDS_MODEL, "learns"):
        assert check_output(data, check).startswith(CFG_MESSAGE), check_output(data, check)
    for check, function in (("flattened_size", "flattened_size"), ("flattened_size_leaves_features_alone",
                                                                   "flattened_size"),
                            ("train_transform_follows_course", "train_transform"),
                            ("test_transform_follows_course", "test_transform")):
        assert check_output(data, check) == f"not implemented yet: {function} in vgg.py"


def test_classifier_bug_alone_loses_the_checks_that_run_the_model(graded):
    data = graded["only_cfg_fixed"]
    assert lost_points(data) == _points(*RUNS_MODEL, "parameters_match_reference")
    for check in RUNS_MODEL:
        assert f"failed: {SHAPE_MESSAGE}" in check_output(data, check), check_output(data, check)
    assert check_output(data, "parameters_match_reference").startswith(
        "VGG()'s classifier.weight has shape (10, 2048), expected (10, 512)")


def test_cfg_bug_alone_loses_every_check_that_builds_the_model(graded):
    data = graded["only_classifier_fixed"]
    assert lost_points(data) == _points(*BUILDS_MODEL)
    for check in BUILDS_MODEL:
        assert check_output(data, check).startswith(CFG_MESSAGE), check_output(data, check)


def test_undefined_name_message_comes_from_the_error(graded):
    output = check_output(graded["other_undefined_name"], "constructs")
    assert output.startswith("VGG() failed: `_make_layers(config)` uses a name `config` that is not defined in "
                             "__init__ — `config` is stored on the instance as self.config"), output
    assert "\n  at vgg.py, line " in output


def test_three_mistakes_lose_exactly_their_checks(graded):
    assert lost_points(graded["three_mistakes"]) == _points(*RUNS_MODEL, "flattened_size_leaves_features_alone",
                                                      "train_transform_follows_course")


def test_classifier_message_numbers_come_from_the_model(graded):
    assert "your classifier expects 512 features but the feature extractor gives 2048 for a 32x32 input" in \
        check_output(graded["three_mistakes"], "output_shape")


def test_flattened_size_must_not_touch_batch_norm_statistics(graded):
    assert "updated batch norm's running statistics" in \
        check_output(graded["three_mistakes"], "flattened_size_leaves_features_alone")


def test_train_transform_without_augmentation(graded):
    assert check_output(graded["three_mistakes"], "train_transform_follows_course").startswith(
        "train_transform() is [ToTensor(), Normalize((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.201))], expected "
        "[RandomCrop((32, 32), padding=4), RandomHorizontalFlip(p=0.5), ToTensor(), Normalize(")


def test_verdicts_are_those_recorded_before_the_trust_boundary(graded):
    entries = {name: f"week2/vgg/{name}" for name in VARIANTS}
    entries.update(reference="week2/reference", release="week2/release")
    assert_verdicts_as_recorded(graded, entries)


def test_recorded_oracle_gives_the_live_verdicts_and_messages(graded, graded_recorded):
    """No check differs in the handout: the value checks compare with the reference's values recorded for
    the weights and inputs they draw, and ``learns`` judges from the worker's scores where the kit
    loads the student's weights into the lab's architecture (the reference and the release only)."""
    assert_handout_verdicts_as_kits(graded, graded_recorded, messages=True)


@pytest.mark.parametrize("oracle", ["graded", "graded_recorded"])
@pytest.mark.parametrize("name", ["release", *VARIANTS])
def test_every_message_is_stored_as_data_and_has_a_chinese_text(request, oracle, name):
    assert_messages_in_both_languages(request.getfixturevalue(oracle)[name])
