"""Week 2, exercise 2: CIFAR-10 with the LeNet-style network of PyTorch's tutorial.

Keep the names, signatures and layer names: the autograder imports them and
loads reference weights into your ``Net``.

Loaders are any iterable of ``(images, labels)`` batches, already transformed:
images float32 (B, 3, 32, 32), labels int64 (B,). A ``DataLoader`` over a
data set built with your ``train_transform()`` works, and so does the
autograder's own batch iterator.
"""

import torch
from torch import nn
from torchvision import transforms

from autograder.data import CIFAR10_CLASSES  # ('airplane', 'automobile', ..., 'truck')


class Net(nn.Module):
    """Conv(3, 6, 5) -> ReLU -> MaxPool2 -> Conv(6, 16, 5) -> ReLU -> MaxPool2 -> flatten (16*5*5)
    -> Linear(400, 120) -> ReLU -> Linear(120, 84) -> ReLU -> Linear(84, 10).

    Layer names as in the tutorial: ``conv1``, ``pool``, ``conv2``, ``fc1``,
    ``fc2``, ``fc3`` (62,006 parameters).

    ``forward``: (N, 3, 32, 32) -> (N, 10) logits (no softmax: ``CrossEntropyLoss`` applies it).
    """

    def __init__(self):
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # YOUR CODE HERE
        raise NotImplementedError()
        return logits


def train_transform():
    """The transform for training images: PIL image -> normalised float32 (3, 32, 32).

    The course's: ``ToTensor()`` then ``Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))``.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
    return transform


def test_transform():
    """The transform for test images. The model must see test images scaled as in training."""
    # YOUR CODE HERE
    raise NotImplementedError()
    return transform


def train(model: nn.Module, loader, epochs: int, device, lr: float = 1e-3) -> list[float]:
    """Train ``model`` for ``epochs`` passes over ``loader`` with Adam(lr) and ``CrossEntropyLoss``.

    Creates the optimizer itself, moves each batch to ``device``.

    Returns:
        One float per epoch: the mean of that epoch's batch losses.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
    return epoch_losses


def evaluate(model: nn.Module, loader, device) -> float:
    """The fraction of the images in ``loader`` that ``model`` classifies correctly, in [0, 1].

    Runs in evaluation mode and without gradients.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
    return accuracy


def per_class_accuracy(model: nn.Module, loader, device) -> dict[str, float]:
    """Accuracy on each class: ``{class name: fraction of that class's images classified correctly}``.

    Keys are CIFAR-10's ten class names in label order (``CIFAR10_CLASSES``);
    a class with no images in ``loader`` gets ``0.0``.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
    return accuracies
