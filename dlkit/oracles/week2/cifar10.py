"""Reference values for the checks of week2/cifar10.py. The reference ``Net``, transforms and loops
solve the exercise, and so do the training loops with one classic mistake each (they differ from a
correct loop by a line), so they all live here, never in a student's handout (which gets the values
recorded from them).

Models given here (the check's small classifier with its drawn weights) are copied before training:
the check's own stay as they are.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from autograder.batches import CIFAR10_MEAN, CIFAR10_STD, TensorBatches
from autograder.models import load_strictly
from dlkit.reference import load_reference


def _reference():
    return load_reference("week2", "cifar10")


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


# ---------------------------------------------------------------- the course's Net


def net(device=None) -> nn.Module:
    """A fresh reference ``Net`` on ``device``: the mirror that holds a student's weights."""
    return _reference().Net().to(device)


def parameter_shapes() -> dict[str, tuple[int, ...]]:
    """The reference ``Net``'s parameter name -> shape."""
    return {name: tuple(p.shape) for name, p in _reference().Net().named_parameters()}


def initial_state(seed: int) -> dict[str, torch.Tensor]:
    """The ``state_dict()`` of the reference ``Net()`` made after ``torch.manual_seed(seed)``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _reference().Net().state_dict()


def logits(state: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The reference ``Net`` holding ``state``, on ``x`` (N, 3, 32, 32): its (N, 10) logits."""
    model = _reference().Net().to(x.device)
    model.load_state_dict(state)
    with torch.no_grad():
        return model(x)


def net_accuracy(state: dict[str, torch.Tensor], batches, device, what: str) -> float:
    """The reference ``Net`` on ``device`` holding ``state`` (a student's trained weights: a mismatch
    fails the check naming ``what``'s layers), measured by the reference's ``evaluate`` on ``batches``."""
    model = load_strictly(_reference().Net().to(device), state, what)
    return _reference().evaluate(model, batches, device)


# ---------------------------------------------------------------- transforms


def train_transformed(pixels: torch.Tensor) -> torch.Tensor:
    """The reference's ``train_transform()`` applied to the PIL image of ``pixels`` (32, 32, 3) uint8:
    float32 (3, 32, 32)."""
    return _reference().train_transform()(Image.fromarray(np.asarray(pixels.numpy())))


# ---------------------------------------------------------------- loops


def _train_with_mistake(model: nn.Module, batches, epochs: int, lr: float, loss_fn=F.cross_entropy,
                        zero_grad: bool = True) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        for images, labels in batches:
            if zero_grad:
                optimizer.zero_grad()
            loss_fn(model(images), labels).backward()
            optimizer.step()


def train_outcomes(initial: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int, epochs: int,
                   lr: float) -> dict:
    """``initial`` trained by the reference's ``train(model, loader, epochs, device, lr)`` on ``images``
    uint8 (N, 3, 32, 32) and ``labels`` (N,) batched in order, normalised as the course's CIFAR-10; and
    by the loops a student's could be instead.

    Returns:
        ``{"losses": [float per epoch], "state": state_dict}`` of the reference, and the state_dict
        after training with ``"nll_loss"`` on the logits, ``"no_zero_grad"`` and ``"default_lr"`` (0.001).
    """
    device = _device_of(initial)

    def batches():
        return TensorBatches(images, labels, batch_size, CIFAR10_MEAN, CIFAR10_STD, device=device)

    def trained(**mistake) -> dict[str, torch.Tensor]:
        twin = copy.deepcopy(initial)
        _train_with_mistake(twin, batches(), epochs, **{"lr": lr, **mistake})
        return twin.state_dict()

    model = copy.deepcopy(initial)
    losses = _reference().train(model, batches(), epochs, device, lr)
    return {"losses": [float(loss) for loss in losses], "state": model.state_dict(),
            "nll_loss": trained(loss_fn=F.nll_loss), "no_zero_grad": trained(zero_grad=False),
            "default_lr": trained(lr=1e-3)}


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int) -> float:
    """The reference's ``evaluate`` of (a copy of) ``model`` on ``images`` uint8 (N, 3, 32, 32) and
    ``labels`` (N,), batched in order and normalised as the course's CIFAR-10."""
    model = copy.deepcopy(model)
    device = _device_of(model)
    batches = TensorBatches(images, labels, batch_size, CIFAR10_MEAN, CIFAR10_STD, device=device)
    return _reference().evaluate(model, batches, device)


def per_class(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int) -> dict[str, float]:
    """The reference's ``per_class_accuracy`` of (a copy of) ``model`` on ``images`` uint8
    (N, 3, 32, 32) and ``labels`` (N,), batched in order and normalised as the course's CIFAR-10."""
    model = copy.deepcopy(model)
    device = _device_of(model)
    batches = TensorBatches(images, labels, batch_size, CIFAR10_MEAN, CIFAR10_STD, device=device)
    return _reference().per_class_accuracy(model, batches, device)
