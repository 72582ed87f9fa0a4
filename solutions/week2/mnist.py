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
        ### BEGIN SOLUTION
        self.network = nn.Sequential(
            nn.Linear(input_size, n_hidden),
            nn.ReLU(),
            nn.Linear(n_hidden, n_hidden),
            nn.ReLU(),
            nn.Linear(n_hidden, output_size),
            nn.LogSoftmax(dim=1),
        )
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        out = self.network(x.reshape(x.shape[0], self.input_size))
        ### END SOLUTION
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
        ### BEGIN SOLUTION
        side = int(round(input_size ** 0.5))
        after = ((side - 4) // 2 - 4) // 2          # conv k5, pool 2, conv k5, pool 2
        self.conv1 = nn.Conv2d(1, n_feature, kernel_size=5)
        self.conv2 = nn.Conv2d(n_feature, n_feature, kernel_size=5)
        self.fc1 = nn.Linear(n_feature * after * after, 50)
        self.fc2 = nn.Linear(50, output_size)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        x = F.max_pool2d(F.relu(self.conv1(x)), kernel_size=2)
        x = F.max_pool2d(F.relu(self.conv2(x)), kernel_size=2)
        x = x.flatten(1)                              # (N, n_feature * after * after)
        x = F.relu(self.fc1(x))
        out = F.log_softmax(self.fc2(x), dim=1)
        ### END SOLUTION
        return out


def count_parameters(model: nn.Module) -> int:
    """The number of parameters of ``model`` (all of them, every element counted)."""
    ### BEGIN SOLUTION
    n = sum(p.numel() for p in model.parameters())
    ### END SOLUTION
    return n


def permute_pixels(images: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Move pixel ``perm[j]`` of every image to position ``j`` (row-major order).

    Args:
        images: (N, 1, 28, 28).
        perm: (784,) int64, a permutation of ``range(784)``; the same one for every image.

    Returns:
        (N, 1, 28, 28): ``out.view(N, -1)[:, j] == images.view(N, -1)[:, perm[j]]``.
    """
    ### BEGIN SOLUTION
    n = images.shape[0]
    out = images.reshape(n, -1)[:, perm].reshape(images.shape)
    ### END SOLUTION
    return out


def train_epoch(model: nn.Module, loader, optimizer: torch.optim.Optimizer, device, perm=None) -> float:
    """One pass over ``loader``: for each batch, forward, ``nll_loss``, backward, step.

    Moves each batch to ``device``; when ``perm`` is given, applies
    ``permute_pixels(images, perm)`` to every batch (the same ``perm`` each time).

    Returns:
        The mean of the batch losses, as a Python float.
    """
    ### BEGIN SOLUTION
    model.train()
    losses = []
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        if perm is not None:
            images = permute_pixels(images, perm.to(device))
        optimizer.zero_grad()
        loss = F.nll_loss(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    mean_loss = sum(losses) / len(losses)
    ### END SOLUTION
    return mean_loss


def evaluate(model: nn.Module, loader, device, perm=None) -> tuple[float, float]:
    """Test ``model`` on every batch of ``loader``, in evaluation mode and without gradients.

    When ``perm`` is given, applies ``permute_pixels(images, perm)`` to every batch.

    Returns:
        ``(mean loss per sample, accuracy)``: the summed ``nll_loss`` divided by the
        number of images, and the fraction classified correctly (in [0, 1]),
        both Python floats.
    """
    ### BEGIN SOLUTION
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            if perm is not None:
                images = permute_pixels(images, perm.to(device))
            output = model(images)
            total_loss += F.nll_loss(output, labels, reduction="sum").item()
            correct += (output.argmax(dim=1) == labels).sum().item()
            seen += labels.shape[0]
    mean_loss, accuracy = total_loss / seen, correct / seen
    ### END SOLUTION
    return mean_loss, accuracy
