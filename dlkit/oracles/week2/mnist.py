"""Reference values for the checks of week2/mnist.py.

Models cross as plain data: a spec (:mod:`autograder.probe.modules`) and a ``state_dict``. Images
are uint8 (N, 28, 28) with int64 labels (N,), batched and normalised as MNIST by
``autograder.batches.TensorBatches`` in their order. ``on`` is the device the check runs on: the
reference computes there, as the student's model does (a GPU's convolutions round differently).
"""

from __future__ import annotations

import torch
from torch import nn

from autograder.batches import MNIST_MEAN, MNIST_STD, TensorBatches
from autograder.probe import modules
from dlkit.reference import load_reference


def _reference():
    return load_reference("week2", "mnist")


def _batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int, on: str) -> TensorBatches:
    return TensorBatches(images, labels, batch_size, MNIST_MEAN, MNIST_STD, device=on)


def course_spec(name: str, args: tuple) -> dict:
    """The spec of the reference ``name(*args)`` (``"FC2Layer"`` or ``"CNN"``): its parameters' names and shapes."""
    return modules.describe(getattr(_reference(), name)(*args))


def outputs(name: str, args: tuple, x: torch.Tensor, on: str = "cpu") -> dict:
    """A fresh reference ``name(*args)`` (drawn from the global generator): ``{"state": its state_dict,
    "output": its log-probabilities for x}``, x (N, 1, side, side) -> output (N, classes)."""
    model = getattr(_reference(), name)(*args).to(on)
    with torch.no_grad():
        output = model(x.to(on))
    return {"state": model.state_dict(), "output": output}


def course_model(name: str, args: tuple, perm: torch.Tensor | None = None) -> nn.Module:
    """The reference ``name(*args)`` (a mirror for a student's weights); with ``perm`` (784,), it
    permutes the pixels of every input with the reference ``permute_pixels`` first."""
    reference = _reference()
    made = getattr(reference, name)(*args)
    if perm is not None:
        made.register_forward_pre_hook(lambda _, inputs: (reference.permute_pixels(inputs[0], perm.to(inputs[0].device)),))
    return made


def permute_pixels(images: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """The reference ``permute_pixels``: images (N, ...) with 784 pixels each, perm (784,) -> same shape."""
    return _reference().permute_pixels(images, perm)


class _NoZeroGrad(torch.optim.SGD):
    """SGD whose ``zero_grad`` does nothing: gradients add up from batch to batch (the classic mistake)."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        pass


def train_epoch(spec: dict, state: dict, images: torch.Tensor, labels: torch.Tensor, batch_size: int, lr: float,
                momentum: float, zero_grad: bool = True, on: str = "cpu") -> dict:
    """The model ``spec`` holding ``state`` after one reference ``train_epoch`` with SGD(lr, momentum)
    (``zero_grad=False``: with gradients never zeroed): ``{"loss": the mean batch loss, "state": ...}``."""
    trained = modules.build(spec, state).to(on)
    optimizer = (torch.optim.SGD if zero_grad else _NoZeroGrad)(trained.parameters(), lr=lr, momentum=momentum)
    loss = _reference().train_epoch(trained, _batches(images, labels, batch_size, on), optimizer, on)
    return {"loss": loss, "state": trained.state_dict()}


def evaluate(spec: dict, state: dict, images: torch.Tensor, labels: torch.Tensor, batch_size: int,
             on: str = "cpu") -> dict:
    """The reference ``evaluate`` of the model ``spec`` holding ``state``: ``{"loss": summed loss /
    images, "accuracy": fraction right, "mean_of_batch_means": the mean of each batch's mean loss}``
    (the last is what a loop averaging per-batch means would report)."""
    tested = modules.build(spec, state).to(on)
    batches = _batches(images, labels, batch_size, on)
    loss, accuracy = _reference().evaluate(tested, batches, on)
    with torch.no_grad():
        means = [nn.functional.nll_loss(tested(x), y).item() for x, y in batches]
    return {"loss": loss, "accuracy": accuracy, "mean_of_batch_means": sum(means) / len(means)}
