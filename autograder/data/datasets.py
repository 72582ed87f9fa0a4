"""torchvision-style Dataset classes built on the kit's tensors.

They take the arguments students know from `torchvision.datasets.MNIST` and
`CIFAR10` and return (PIL image, int label) pairs, so `transforms` and
`DataLoader` work as the course teaches, without torchvision's MD5 checks or
downloads.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from .cache import cifar10_tensors, mnist_tensors
from .cifar10 import CIFAR10_CLASSES
from .errors import DataNotFoundError
from .root import data_root

MNIST_CLASSES = (
    "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
    "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
)


def _fetch_if_asked(download: bool, dataset: str, root: Path, load: Callable[[], Any]) -> Any:
    try:
        return load()
    except DataNotFoundError:
        if not download:
            raise
    from .download import download as fetch

    fetch(dataset, root)
    return load()


class _ImageDataset(Dataset):
    """Shared parts: transforms, length, classes, repr."""

    classes: tuple[str, ...] = ()

    def __init__(
        self,
        root: str | Path | None,
        train: bool,
        transform: Callable | None,
        target_transform: Callable | None,
    ) -> None:
        self.root = data_root(root)
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.targets)

    def _image(self, index: int) -> Image.Image:
        raise NotImplementedError

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """Return (image, label): a PIL image (or `transform(image)`), an int (or `target_transform(int)`)."""
        image = self._image(index)
        target = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self) -> str:
        lines = [
            f"Dataset {type(self).__name__}",
            f"    Number of datapoints: {len(self)}",
            f"    Root location: {self.root}",
            f"    Split: {'Train' if self.train else 'Test'}",
        ]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}".replace("\n", "\n    "))
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class MNIST(_ImageDataset):
    """MNIST digits, read from `<root>/MNIST/raw`.

    Attributes as in torchvision: `data` uint8 tensor (N, 28, 28), `targets`
    int64 tensor (N,), `classes`. An item is (28x28 greyscale PIL image, int
    label 0..9) before transforms; `ToTensor()` turns the image into float32
    (1, 28, 28) in [0, 1].
    `root` defaults to `data_root()`. With `download=True` a missing data set
    is fetched first (needs the internet).
    """

    classes = MNIST_CLASSES

    def __init__(
        self,
        root: str | Path | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        super().__init__(root, train, transform, target_transform)
        images, labels = _fetch_if_asked(
            download, "mnist", self.root, lambda: mnist_tensors(self.train, self.root)
        )
        self.data: torch.Tensor = images.clone()
        self.targets: torch.Tensor = labels.clone()

    def _image(self, index: int) -> Image.Image:
        return Image.fromarray(self.data[index].numpy())


class CIFAR10(_ImageDataset):
    """CIFAR-10 photos, read from `<root>/cifar-10-batches-py` (no MD5 check).

    Attributes as in torchvision: `data` uint8 numpy array (N, 32, 32, 3)
    (height, width, RGB), `targets` list of N ints, `classes`. An item is
    (32x32 RGB PIL image, int label 0..9) before transforms; `ToTensor()`
    turns the image into float32 (3, 32, 32) in [0, 1].
    `root` defaults to `data_root()`. With `download=True` a missing data set
    is fetched first (needs the internet).
    """

    classes = CIFAR10_CLASSES

    def __init__(
        self,
        root: str | Path | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        super().__init__(root, train, transform, target_transform)
        images, labels = _fetch_if_asked(
            download, "cifar10", self.root, lambda: cifar10_tensors(self.train, self.root)
        )
        self.data: np.ndarray = images.permute(0, 2, 3, 1).contiguous().numpy()
        self.targets: list[int] = labels.tolist()

    def _image(self, index: int) -> Image.Image:
        return Image.fromarray(self.data[index])
