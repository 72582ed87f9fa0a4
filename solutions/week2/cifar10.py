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
        ### BEGIN SOLUTION
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        x = self.pool(torch.relu(self.conv1(x)))     # (N, 6, 14, 14)
        x = self.pool(torch.relu(self.conv2(x)))     # (N, 16, 5, 5)
        x = x.flatten(1)                             # (N, 400)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        logits = self.fc3(x)
        ### END SOLUTION
        return logits


def train_transform():
    """The transform for training images: PIL image -> normalised float32 (3, 32, 32).

    The course's: ``ToTensor()`` then ``Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))``.
    """
    ### BEGIN SOLUTION
    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    ])
    ### END SOLUTION
    return transform


def test_transform():
    """The transform for test images. The model must see test images scaled as in training."""
    ### BEGIN SOLUTION
    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    ])
    ### END SOLUTION
    return transform


def train(model: nn.Module, loader, epochs: int, device, lr: float = 1e-3) -> list[float]:
    """Train ``model`` for ``epochs`` passes over ``loader`` with Adam(lr) and ``CrossEntropyLoss``.

    Creates the optimizer itself, moves each batch to ``device``.

    Returns:
        One float per epoch: the mean of that epoch's batch losses.
    """
    ### BEGIN SOLUTION
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    model.train()
    epoch_losses = []
    for _ in range(epochs):
        losses = []
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        epoch_losses.append(sum(losses) / len(losses))
    ### END SOLUTION
    return epoch_losses


def evaluate(model: nn.Module, loader, device) -> float:
    """The fraction of the images in ``loader`` that ``model`` classifies correctly, in [0, 1].

    Runs in evaluation mode and without gradients.
    """
    ### BEGIN SOLUTION
    model.eval()
    correct, seen = 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            seen += labels.shape[0]
    accuracy = correct / seen
    ### END SOLUTION
    return accuracy


def per_class_accuracy(model: nn.Module, loader, device) -> dict[str, float]:
    """Accuracy on each class: ``{class name: fraction of that class's images classified correctly}``.

    Keys are CIFAR-10's ten class names in label order (``CIFAR10_CLASSES``);
    a class with no images in ``loader`` gets ``0.0``.
    """
    ### BEGIN SOLUTION
    model.eval()
    correct = torch.zeros(len(CIFAR10_CLASSES), dtype=torch.long)
    total = torch.zeros(len(CIFAR10_CLASSES), dtype=torch.long)
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            hits = (model(images).argmax(dim=1) == labels).long().cpu()
            labels = labels.cpu()
            total += torch.bincount(labels, minlength=len(CIFAR10_CLASSES))
            correct += torch.bincount(labels, weights=hits, minlength=len(CIFAR10_CLASSES)).long()
    accuracies = {
        name: (correct[i].item() / total[i].item() if total[i] > 0 else 0.0)
        for i, name in enumerate(CIFAR10_CLASSES)
    }
    ### END SOLUTION
    return accuracies
