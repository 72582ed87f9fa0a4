"""Reference values for the checks of week2/vgg.py, and the kit's own training of a VGG (calibration).

What lives here solves the exercise or another of the week, so it never reaches a student's handout:
the lab's VGG (its shapes, outputs and gradients for weights and inputs the check drew), the reference
``flattened_size`` and transforms, a correct one-batch training loop (:func:`overfit_batch`) and the
course's training through the reference ``cifar10.train`` (:func:`train_and_test`). The handout gets
the values recorded from them.

The data are the check's own: :func:`autograder.week2.test_vgg.one_batch` and
:func:`autograder.week2.test_vgg.course_batches`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from autograder.learning import measure_accuracy
from autograder.probe import modules
from autograder.probe.describe import describe_transform
from autograder.week2.test_vgg import course_batches, one_batch, sampled
from dlkit.reference import load_reference


def _reference():
    return load_reference("week2", "vgg")


def course_model(device="cpu") -> nn.Module:
    """The lab's ``VGG()`` on ``device``, in training mode: the mirror that holds a student's weights."""
    return _reference().VGG().to(device).train()


def shapes() -> dict:
    """The lab's VGG as names and shapes: ``{"parameters": {name: (shape)}, "state": {key: ((shape), dtype)}}``,
    dtype as ``"float32"``; ``state`` in ``state_dict()`` order."""
    model = _reference().VGG()
    return {"parameters": {name: tuple(p.shape) for name, p in model.named_parameters()},
            "state": {key: (tuple(v.shape), str(v.dtype).removeprefix("torch."))
                      for key, v in model.state_dict().items()}}


def _loaded(state: dict[str, torch.Tensor], device) -> nn.Module:
    model = course_model(device)
    model.load_state_dict(state)
    return model


def eval_logits(state: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The lab's VGG holding ``state``, in eval mode, on ``x`` (N, 3, 32, 32), on ``x``'s device: (N, 10)."""
    model = _loaded(state, x.device).eval()
    with torch.no_grad():
        return model(x)


def gradient_samples(state: dict[str, torch.Tensor], x: torch.Tensor, labels: torch.Tensor,
                     samples: int) -> dict[str, dict[str, torch.Tensor]]:
    """After ``cross_entropy(model(x), labels).backward()`` on the lab's VGG holding ``state`` (training
    mode, ``x``'s device): for each parameter, ``{"values": (k,) gradient entries at
    :func:`~autograder.week2.test_vgg.sampled` positions, "norm": () its gradient's norm}``."""
    model = _loaded(state, x.device)
    F.cross_entropy(model(x), labels).backward()
    return {name: {"values": sampled(p.grad, samples), "norm": p.grad.norm()} for name, p in model.named_parameters()}


def features_spec() -> dict:
    """The lab's ``VGG().features`` as a module spec (:mod:`autograder.probe.modules`), in training mode."""
    return modules.describe(_reference().VGG().features.train())


def flattened_size(spec: dict, input_shape: tuple) -> int:
    """The reference ``flattened_size`` of the module ``spec`` describes, for (C, H, W) ``input_shape``."""
    return _reference().flattened_size(modules.build(spec), input_shape=tuple(input_shape))


def transform_description(name: str) -> dict:
    """The reference's ``train_transform()`` or ``test_transform()`` (``name``), described as the worker
    describes a student's (:func:`autograder.probe.describe.describe_transform`)."""
    return describe_transform(getattr(_reference(), name)())


def transformed(name: str, pixels: torch.Tensor, seed: int) -> torch.Tensor:
    """The reference's ``<name>()`` applied to the (32, 32, 3) uint8 image ``pixels`` after
    ``torch.manual_seed(seed)``: (3, 32, 32) float32."""
    transform = getattr(_reference(), name)()
    torch.manual_seed(seed)
    return transform(Image.fromarray(pixels.numpy()))


# ---------------------------------------------------------------- calibration


def batch_loss_and_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Cross-entropy and accuracy of ``model`` on one batch, in training mode (batch statistics: a few
    steps leave batch norm's running statistics far behind the weights)."""
    model.train()
    with torch.no_grad():
        scores = model(x)
        return F.cross_entropy(scores, y).item(), (scores.argmax(dim=1) == y).float().mean().item()


def overfit_batch(model: nn.Module, budget: dict, seed: int, device, root=None) -> tuple[list[float], float]:
    """Adam steps on one fixed batch of CIFAR-10 training images; (loss at each step, final accuracy).

    The batch is ``budget["images"]`` training images drawn with ``seed``, normalised with VGG's
    constants; ``budget["steps"]`` Adam steps (lr ``budget["lr"]``) on cross-entropy in training
    mode; the returned losses are each taken before its step, and the accuracy is measured on the
    same batch after the last step, still in training mode. For a model of this process
    (calibration); a student's VGG is trained in the worker by ``autograder.week2.test_vgg.overfit_there``.
    """
    x, y = one_batch(budget, seed, device, root)
    optimizer = torch.optim.Adam(model.parameters(), lr=budget["lr"])
    model.train()
    losses = []
    for _ in range(budget["steps"]):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, batch_loss_and_accuracy(model, x, y)[1]


def train_and_test(model: nn.Module, budget: dict, seed: int, device, root=None) -> float:
    """The course's training: ``budget["epochs"]`` epochs of Adam with the course's augmentation; test accuracy.

    Training images are cropped and flipped as ``train_transform()`` would, shuffled with ``seed``;
    the reference ``cifar10.train`` runs the epochs; the kit's test loop measures accuracy. For a
    model of this process (calibration); a student's VGG is trained in the worker by
    ``autograder.week2.test_vgg.train_and_test_there``.
    """
    batches, test = course_batches(budget, seed, device, root)
    load_reference("week2", "cifar10").train(model, batches, budget["epochs"], device, budget["lr"])
    return measure_accuracy(model, test)
