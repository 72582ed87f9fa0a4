"""Reference values for the checks of week2/residual.py: the course's ``Net`` trained by the reference's
``train`` under the comparison's budget, and its test accuracy. The reference ``Net`` and ``train`` solve
week 2's ``cifar10`` exercise, so they live here, never in a student's handout (which gets the accuracy
recorded from them).

The data are the check's own: :func:`autograder.week2.test_residual.course_batches`, the same subset
and batch order the student's ``SmallResNet`` trains on.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from autograder.acceleration import training_precision
from autograder.batches import CIFAR10_MEAN, CIFAR10_STD, VGG_MEAN, VGG_STD
from autograder.learning import measure_accuracy
from autograder.week2.test_residual import course_batches
from dlkit.reference import load_reference


def _trained_accuracy(model: nn.Module, budget: dict, seed: int, device, mean, std, root) -> float:
    """Train ``model`` (already on ``device``) with the reference's ``train`` on the course's batches
    normalised with ``mean``, ``std``; its accuracy on the test subset, in [0, 1]."""
    batches, test = course_batches(budget, seed, device, mean, std, root)
    load_reference("week2", "cifar10").train(model, batches, budget["epochs"], device, budget["lr"])
    return measure_accuracy(model, test)


def net_accuracy(budget: dict, seed: int, device: str, profile: str, root=None) -> float:
    """The reference ``Net`` (initialised after ``torch.manual_seed(seed)``) trained under ``budget``
    (``train_images``, ``epochs``, ``batch_size``, ``lr``, ``test_images``, ``test_batch_size``) on
    images normalised with (0.5, 0.5, 0.5), in ``profile``'s training precision: its test accuracy."""
    device = torch.device(device)
    torch.manual_seed(seed)
    net = load_reference("week2", "cifar10").Net().to(device)
    with training_precision(device, profile):
        return _trained_accuracy(net, budget, seed, device, CIFAR10_MEAN, CIFAR10_STD, root)


def compare_with_net(make_model: Callable[[], nn.Module], budget: dict, seed: int, device, root=None,
                     profile: str = "quick") -> tuple[float, float]:
    """Calibration (``docs/calibration/week2-vgg-residual.md``): ``make_model()`` (e.g. the reference
    ``SmallResNet``, initialised after ``torch.manual_seed(seed)``) trained here as the check trains a
    student's in the worker (same batches, VGG's normalisation, Adam steps), and the reference ``Net``
    as the check's oracle trains it; both test accuracies, ``(mine, net)``."""
    device = torch.device(device)
    torch.manual_seed(seed)
    model = make_model().to(device)
    with training_precision(device, profile):
        mine = _trained_accuracy(model, budget, seed, device, VGG_MEAN, VGG_STD, root)
    return mine, net_accuracy(budget, seed, str(device), profile, root)
