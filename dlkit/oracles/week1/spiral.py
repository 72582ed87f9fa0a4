"""Reference values for the checks of week1/spiral.py: the lab's spiral, drawn point by point as the
lab's own code does, and the lab's full-batch training. All of it solves the exercise, so it lives
here, never in a student's handout (which gets the values recorded from it)."""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}


def lab_spiral(n_per_class: int = 1000, n_classes: int = 3, seed: int = 12345) -> tuple[torch.Tensor, torch.Tensor]:
    """The lab's own code, point by point, run without touching the caller's random state:
    X float32 (N * C, 2), Y int64 (N * C,)."""
    N, C, D = n_per_class, n_classes, 2
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        X = torch.zeros(N * C, D)
        y = torch.zeros(N * C, dtype=torch.long)
        for c in range(C):
            index = 0
            t = torch.linspace(0, 1, N)
            inner_var = torch.linspace((2 * math.pi / C) * c, (2 * math.pi / C) * (2 + c), N) + torch.randn(N) * 0.2
            for ix in range(N * c, N * (c + 1)):
                X[ix] = t[index] * torch.FloatTensor((math.sin(inner_var[index]), math.cos(inner_var[index])))
                y[ix] = c
                index += 1
    return X, y


@functools.cache
def course_data() -> tuple[torch.Tensor, torch.Tensor]:
    """The course's spiral: 1000 points per class, 3 classes, seed 12345."""
    return lab_spiral()


def fit(model: nn.Module, X, Y, optimizer: str, steps: int, lr: float = 1e-3, weight_decay: float = 1e-5) -> list[float]:
    """Full-batch training as the lab does it; the losses are taken before each update."""
    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(X), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _small_model(state: dict[str, torch.Tensor]) -> nn.Module:
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    model.load_state_dict(state)
    return model


def trained_state(start: dict[str, torch.Tensor], X, Y, optimizer: str, steps: int,
                  **kwargs) -> dict[str, torch.Tensor]:
    """The checks' small model (Linear(2, 16) -> ReLU -> Linear(16, 3)) from ``start`` after ``steps``
    of the lab's training: its state_dict."""
    model = _small_model(start)
    fit(model, X, Y, optimizer, steps, **kwargs)
    return {name: value.detach().clone() for name, value in model.state_dict().items()}
