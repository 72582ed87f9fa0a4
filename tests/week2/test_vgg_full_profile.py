"""The full-profile (GPU) branch of week2/vgg's learning check, run on the CPU at a toy size.

No GPU was available when the check was written, so these tests make sure that the code the full
profile runs trains for real: the declared budget has every key it reads, and one epoch over a
few hundred images moves a model's test accuracy.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from autograder.data import cifar10_tensors
from autograder.spec import exercise_spec
from dlkit.oracles.week2.vgg import overfit_batch, train_and_test
from tests.support import has_data

needs_data = pytest.mark.skipif(not has_data(cifar10_tensors), reason="CIFAR-10 is not available here")


def _tiny_model() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(4),
                         nn.Flatten(), nn.Linear(8 * 8 * 8, 10))


def test_full_budget_declares_what_the_check_reads():
    spec = exercise_spec("week2", "vgg")
    budget = spec.budget("full")
    assert {"train_images", "epochs", "batch_size", "lr", "test_images", "test_batch_size"} <= set(budget)
    assert budget["epochs"] == 10 and budget["batch_size"] == 128 and budget["lr"] == 0.001  # the course's
    assert budget["train_images"] == 50000 and budget["test_images"] == 10000
    assert 0.75 <= spec.threshold("test_accuracy", "full") < 0.829   # below the course's lowest run


def test_quick_budget_declares_what_the_check_reads():
    spec = exercise_spec("week2", "vgg")
    assert {"images", "steps", "lr"} <= set(spec.budget("quick"))
    spec.threshold("overfit_accuracy", "quick")
    spec.threshold("overfit_loss_ratio", "quick")


@needs_data
def test_full_profile_training_trains():
    budget = {**exercise_spec("week2", "vgg").budget("full"), "train_images": 512, "epochs": 1,
              "test_images": 300, "test_batch_size": 150}
    torch.manual_seed(0)
    model = _tiny_model()
    before = [p.detach().clone() for p in model.parameters()]
    accuracy = train_and_test(model, budget, seed=0, device="cpu")
    assert 0.0 <= accuracy <= 1.0
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert not model.training   # measured in eval mode


@needs_data
def test_overfit_batch_reports_losses_before_each_step():
    torch.manual_seed(0)
    losses, accuracy = overfit_batch(_tiny_model(), {"images": 16, "steps": 30, "lr": 0.01}, seed=0, device="cpu")
    assert len(losses) == 30 and losses[-1] < losses[0]
    assert 0.0 <= accuracy <= 1.0
