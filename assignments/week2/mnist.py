"""Week 2, exercise 1: MNIST with a fully connected net and a CNN, and shuffled pixels.

The lab compares two models with about the same number of parameters (6,442
and 6,422) on MNIST, then repeats the comparison after applying one fixed
random permutation to the 784 pixel positions of every image. Keep the names,
signatures and layer names: the autograder imports them and loads reference
weights into your models.

Loaders are any iterable of ``(images, labels)`` batches, already normalised
with ``Normalize((0.1307,), (0.3081,))``: images float32 (B, 1, 28, 28),
labels int64 (B,). A ``DataLoader`` works, and so does the autograder's own
batch iterator.
"""

import torch
import torch.nn.functional as F
from torch import nn


class FC2Layer(nn.Module):
    """``input_size -> n_hidden -> n_hidden -> output_size`` with ReLU, returning log-probabilities.

    Layers live in ``self.network = nn.Sequential(Linear, ReLU, Linear, ReLU,
    Linear, LogSoftmax(dim=1))``, as in the course, so that a state_dict with
    keys ``network.0.weight`` ... ``network.4.bias`` loads.

    ``forward`` takes images of any shape (N, ...) with ``input_size`` values each
    and returns (N, output_size) log-probabilities.
    """

    def __init__(self, input_size: int, n_hidden: int, output_size: int):
        super().__init__()
        self.input_size = input_size
        # YOUR CODE HERE
        raise NotImplementedError()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # YOUR CODE HERE
        raise NotImplementedError()
        return out


class CNN(nn.Module):
    """Conv(1->n_feature, k5) -> ReLU -> MaxPool2 -> Conv(n_feature->n_feature, k5) -> ReLU -> MaxPool2
    -> flatten -> Linear(.., 50) -> ReLU -> Linear(50, output_size) -> log_softmax.

    ``input_size`` is the number of pixels of a square one-channel image
    (784 for 28x28). Layer names as in the course: ``conv1``, ``conv2``,
    ``fc1``, ``fc2``. For 28x28 images and ``n_feature=6`` the flattened size
    is 6*4*4 = 96, but compute it from ``input_size`` and ``n_feature``: the
    autograder also builds the model for other sizes.

    ``forward``: (N, 1, side, side) -> (N, output_size) log-probabilities.
    """

    def __init__(self, input_size: int, n_feature: int, output_size: int):
        super().__init__()
        self.n_feature = n_feature
        # YOUR CODE HERE
        raise NotImplementedError()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # YOUR CODE HERE
        raise NotImplementedError()
        return out


def count_parameters(model: nn.Module) -> int:
    """The number of parameters of ``model`` (all of them, every element counted)."""
    # YOUR CODE HERE
    raise NotImplementedError()
    return n


def permute_pixels(images: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Move pixel ``perm[j]`` of every image to position ``j`` (row-major order).

    Args:
        images: (N, 1, 28, 28).
        perm: (784,) int64, a permutation of ``range(784)``; the same one for every image.

    Returns:
        (N, 1, 28, 28): ``out.view(N, -1)[:, j] == images.view(N, -1)[:, perm[j]]``.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
    return out


def train_epoch(model: nn.Module, loader, optimizer: torch.optim.Optimizer, device, perm=None) -> float:
    """One pass over ``loader``: for each batch, forward, ``nll_loss``, backward, step.

    Moves each batch to ``device``; when ``perm`` is given, applies
    ``permute_pixels(images, perm)`` to every batch (the same ``perm`` each time).

    Returns:
        The mean of the batch losses, as a Python float.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
    return mean_loss


def evaluate(model: nn.Module, loader, device, perm=None) -> tuple[float, float]:
    """Test ``model`` on every batch of ``loader``, in evaluation mode and without gradients.

    When ``perm`` is given, applies ``permute_pixels(images, perm)`` to every batch.

    Returns:
        ``(mean loss per sample, accuracy)``: the summed ``nll_loss`` divided by the
        number of images, and the fraction classified correctly (in [0, 1]),
        both Python floats.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
    return mean_loss, accuracy
