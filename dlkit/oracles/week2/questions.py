"""Reference values for the checks of week2/questions.py."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader


def loader_orders(n: int, shuffle: bool, epochs: int, seed: int, batch_size: int = 7) -> list[list[int]]:
    """What a real ``DataLoader`` over ``range(n)`` with a generator seeded with ``seed`` yields, per
    epoch: ``epochs`` lists of ints (it solves ``epoch_orders``, so it stays on this side)."""
    loader = DataLoader(range(n), batch_size=batch_size, shuffle=shuffle,
                        generator=torch.Generator().manual_seed(seed))
    return [[int(i) for batch in loader for i in batch] for _ in range(epochs)]
