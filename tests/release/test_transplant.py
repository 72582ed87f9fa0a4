"""The handout's transplant test, on the stubs whose solutions the checks' own helpers used to hold
(the lab's spiral, the spiral's training and accuracy, the training loops, the course's models): no
function or class of the students' package, bound to a stub's name, earns a point. (The test loops
and the pixel permutation have the most candidates, 25 to 39 each: the script's full run covers them.)

Every stub with every compatible candidate (about 300 for week 1 and 500 for week 2, several minutes)
is ``python scripts/transplant.py``; its last figures are in docs/handout.md.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from autograder.settings import KIT_ROOT
from tests.support import has_data

spec = importlib.util.spec_from_file_location("_transplant", KIT_ROOT / "scripts" / "transplant.py")
transplant = importlib.util.module_from_spec(spec)
sys.modules["_transplant"] = transplant
spec.loader.exec_module(transplant)

RISKY = {
    "week1": (["spiral"], None),
    "week2": (["mnist", "cifar10"], ["train_epoch", "train", "FC2Layer", "CNN", "Net"]),
}


@pytest.mark.parametrize("week", sorted(RISKY))
def test_no_helper_of_the_students_package_earns_a_point_in_place_of_a_stub(week):
    if week == "week2":
        from autograder.data import cifar10_tensors, mnist_tensors

        if not (has_data(mnist_tensors) and has_data(cifar10_tensors)):
            pytest.skip("MNIST or CIFAR-10 is not in the data root")
    exercises, only = RISKY[week]
    items, points, _ = transplant.run([week], "checks", 2, exercises, only)
    assert items, "no candidate found: the transplant test would pass without trying anything"
    assert all(points[item.student] != transplant.NOT_GRADED for item in items), "some transplants were not graded"
    earned = {item.student: points[item.student] for item in items if points[item.student] > 0}
    assert earned == {}


def test_the_harness_sees_a_helper_that_solves_an_exercise():
    """The lab's spiral (kept on the instructors' side) bound to ``make_spiral`` earns points: what the
    kit's own check helper did before the oracle (and the test above would catch)."""
    leak = transplant.Transplant("week1", "spiral", "spiral.py", "make_spiral", "dlkit.oracles.week1.spiral",
                                 "lab_spiral")
    points, _ = transplant.grade("week1", [leak], 1)
    assert points[leak.student] >= 4
