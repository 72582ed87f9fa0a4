"""Fast training batches for checks: uint8 tensors kept whole, normalised per batch.

The checks train on the CPU under a budget of seconds, so they skip what a
``DataLoader`` over a torchvision data set does per sample (PIL decode,
``ToTensor``, ``Normalize``, worker processes). The images stay one uint8
tensor (4x smaller than float32) on ``device``; each batch is gathered,
optionally augmented, converted and normalised with a few tensor ops.

Normalisation is bit-for-bit what ``ToTensor()`` + ``Normalize(mean, std)``
compute (``x.float().div(255)``, then ``sub(mean).div(std)``), so a model sees
the same numbers as it would through the course's ``DataLoader``.

Typical use::

    images, labels = mnist_tensors(train=True)
    images, labels = subset(images, labels, 3000, seed=0)
    loader = TensorBatches(images, labels, 64, MNIST_MEAN, MNIST_STD, shuffle=True, seed=0)
    for x, y in loader:          # x float32 (64, 1, 28, 28), y int64 (64,)
        ...
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch
import torch.utils.data
from torch import Tensor

from autograder.i18n import _

MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)
"""The course's MNIST normalisation."""
CIFAR10_MEAN, CIFAR10_STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
"""The course's CIFAR-10 normalisation for the LeNet-style ``Net``."""
VGG_MEAN, VGG_STD = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)
"""The course's CIFAR-10 normalisation for VGG (and the residual network)."""

CROP_PADDING = 4
"""Zero padding before the random crop (``RandomCrop(32, padding=4)``)."""


def _as_nchw(images: Tensor) -> Tensor:
    """(N, H, W) -> (N, 1, H, W); (N, C, H, W) unchanged."""
    if images.dim() == 3:
        return images.unsqueeze(1)
    if images.dim() == 4:
        return images
    raise ValueError(_("images must have shape (N, H, W) or (N, C, H, W), got {shape}", shape=str(tuple(images.shape))))


class TensorBatches:
    """Iterate ``(images, labels)`` batches from uint8 tensors kept whole.

    Each batch is normalised (and, with ``augment=True``, randomly cropped
    from a zero-padded image and horizontally flipped, each sample drawing its
    own offsets and flip, as ``RandomCrop(H, padding=4)`` +
    ``RandomHorizontalFlip()`` would) with tensor ops on ``device``.

    Args:
        images_uint8: uint8 (N, H, W) or (N, C, H, W), values 0..255.
        labels: integer (N,).
        batch_size: images per batch; the last batch may be smaller unless ``drop_last``.
        mean, std: per-channel constants of ``Normalize``, one per channel.
        shuffle: draw a new order for every pass (like ``DataLoader(shuffle=True)``).
        seed: seeds this object's own generator; the sequence of orders and
            augmentations over successive passes is the same for the same seed,
            and the global random state is neither used nor changed.
        device: where the data are kept and the batches are made.
        augment: random crop with padding 4 and horizontal flip.
        drop_last: skip a last batch smaller than ``batch_size``.

    Yields:
        float32 (B, C, H, W) normalised images and int64 (B,) labels, on ``device``.
    """

    def __init__(
        self,
        images_uint8: Tensor,
        labels: Tensor,
        batch_size: int,
        mean: Sequence[float],
        std: Sequence[float],
        shuffle: bool = False,
        seed: int = 0,
        device: torch.device | str = "cpu",
        augment: bool = False,
        drop_last: bool = False,
    ) -> None:
        if images_uint8.dtype != torch.uint8:
            raise TypeError(_("images_uint8 must be a uint8 tensor, got {dtype}", dtype=str(images_uint8.dtype)))
        images = _as_nchw(images_uint8)
        if labels.dim() != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(_("labels must have shape {expected}, got {shape}", expected=str((images.shape[0],)),
                               shape=str(tuple(labels.shape))))
        channels = images.shape[1]
        if len(mean) != channels or len(std) != channels:
            raise ValueError(_("mean and std need one value per channel ({channels}), got {means} and {stds}",
                               channels=channels, means=len(mean), stds=len(std)))
        if batch_size < 1:
            raise ValueError(_("batch_size must be 1 or more, got {n}", n=batch_size))
        self.device = torch.device(device)
        self.images = images.to(self.device)
        self.labels = labels.to(self.device, torch.int64)
        self.batch_size = int(batch_size)
        self.mean = torch.tensor(mean, dtype=torch.float32, device=self.device).view(1, -1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32, device=self.device).view(1, -1, 1, 1)
        self.shuffle = bool(shuffle)
        self.augment = bool(augment)
        self.drop_last = bool(drop_last)
        self.generator = torch.Generator().manual_seed(int(seed))  # CPU: same draws on every device

    @property
    def dataset(self) -> torch.utils.data.TensorDataset:
        """The raw (uint8 image, label) pairs, so DataLoader-style ``len(loader.dataset)`` works."""
        return torch.utils.data.TensorDataset(self.images, self.labels)

    def __len__(self) -> int:
        n = self.images.shape[0]
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        n = self.images.shape[0]
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.device)
        else:
            order = torch.arange(n, device=self.device)
        for b in range(len(self)):
            index = order[b * self.batch_size:(b + 1) * self.batch_size]
            x = self.images[index]
            if self.augment:
                x = self._crop_and_flip(x)
            yield self.normalise(x), self.labels[index]

    def normalise(self, x_uint8: Tensor) -> Tensor:
        """uint8 (B, C, H, W) -> float32, exactly ``Normalize(mean, std)(ToTensor()(x))``."""
        return x_uint8.float().div_(255).sub_(self.mean).div_(self.std)

    def _crop_and_flip(self, x: Tensor) -> Tensor:
        """Per-sample random crop of the zero-padded batch, then per-sample horizontal flip (uint8)."""
        b, c, h, w = x.shape
        p = CROP_PADDING
        padded = torch.nn.functional.pad(x, (p, p, p, p))                  # (B, C, H+2p, W+2p), zeros
        dy = torch.randint(0, 2 * p + 1, (b,), generator=self.generator).to(x.device)
        dx = torch.randint(0, 2 * p + 1, (b,), generator=self.generator).to(x.device)
        flip = (torch.rand(b, generator=self.generator) < 0.5).to(x.device)
        rows = dy[:, None] + torch.arange(h, device=x.device)              # (B, H)
        cols = dx[:, None] + torch.arange(w, device=x.device)              # (B, W)
        cols = torch.where(flip[:, None], cols.flip(1), cols)              # flipped samples read right to left
        batch = torch.arange(b, device=x.device)[:, None, None, None]
        channel = torch.arange(c, device=x.device)[None, :, None, None]
        return padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]


def subset(images: Tensor, labels: Tensor, n: int, seed: int) -> tuple[Tensor, Tensor]:
    """A reproducible, stratified subset of ``n`` samples (all of them when ``n >= N``).

    Each class keeps its share of ``n`` (largest remainders get the leftover
    places); within a class the samples are drawn by a generator seeded with
    ``seed``. The chosen samples keep their original order, so the same
    ``(n, seed)`` always gives the same tensors.
    """
    total = labels.shape[0]
    if n >= total:
        return images, labels
    if n < 0:
        raise ValueError(_("n must be 0 or more, got {n}", n=n))
    generator = torch.Generator().manual_seed(int(seed))
    classes, counts = torch.unique(labels.cpu(), return_counts=True)
    exact = counts.double() * n / total
    quota = exact.floor().long()
    leftover = n - int(quota.sum())
    if leftover:
        order = torch.argsort(exact - quota, descending=True, stable=True)
        quota[order[:leftover]] += 1
    chosen = []
    for cls, k in zip(classes.tolist(), quota.tolist()):
        members = (labels.cpu() == cls).nonzero().squeeze(1)
        chosen.append(members[torch.randperm(members.shape[0], generator=generator)[:k]])
    index = torch.cat(chosen).sort().values.to(labels.device)
    return images[index], labels[index]
