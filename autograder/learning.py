"""What the week-2 learning checks share: cached CIFAR-10 subsets and the kit's test loop.

Shapes: a subset is ``(images, labels)`` with images uint8 (N, 3, 32, 32) and labels int64 (N,),
as ``autograder.data.cifar10_tensors`` gives them; batches for :func:`measure_accuracy` are
``(images, labels)`` with images float32 (B, C, H, W) and labels int64 (B,), e.g. from
``autograder.batches.TensorBatches``.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from autograder.batches import subset
from autograder.data import cifar10_tensors


@functools.lru_cache(maxsize=4)
def cifar10_subset(train: bool, n: int, seed: int, root) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` CIFAR-10 images of the training (``train``) or test split drawn with ``seed``; memoised."""
    images, labels = cifar10_tensors(train, root)
    return subset(images, labels, n, seed)


def measure_accuracy(model: nn.Module, batches) -> float:
    """The kit's test loop: the share of ``batches`` that ``model`` (here) classifies right, in eval
    mode, without gradients."""
    model.train(False)
    right, total = 0, 0
    with torch.inference_mode():
        for x, y in batches:
            right += int((model(x).argmax(dim=1) == y).sum())
            total += len(y)
    return right / total
