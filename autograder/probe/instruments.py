"""Models the checks hand to a student's training and test loops, built in the worker.

Each is a plain linear classifier on the flattened pixels whose weights the grading process chose,
so it can compute here what a correct loop would have given; what differs is how it reacts to
being run:

- :class:`InputRecorder` keeps a copy of every batch it is given, so a check can compare the
  batches a loop fed it with the ones it should have (permuted pixels, every batch once);
- :class:`GradModeMarker` adds ``shift`` to its scores whenever autograd is recording, so a test
  loop that leaves gradients on returns other numbers than the kit's.

Nothing here computes what a student is asked to write.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class InputRecorder(nn.Module):
    """``log_softmax`` (or logits) of a linear map of the flattened input, with optional dropout;
    ``seen`` holds a CPU copy of every input, in order."""

    def __init__(self, features: int, classes: int = 10, dropout: float = 0.0, log_probabilities: bool = True):
        super().__init__()
        self.linear = nn.Linear(features, classes)
        self.dropout = nn.Dropout(dropout)
        self.log_probabilities = log_probabilities
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.detach().to("cpu", copy=True))
        scores = self.linear(self.dropout(x.reshape(x.shape[0], -1)))
        return F.log_softmax(scores, dim=1) if self.log_probabilities else scores


class GradModeMarker(nn.Module):
    """A linear map of the flattened input whose scores move by ``shift`` (C,) while autograd records."""

    def __init__(self, features: int, shift: torch.Tensor, log_probabilities: bool = True):
        super().__init__()
        self.linear = nn.Linear(features, shift.shape[0])
        self.register_buffer("shift", shift.clone())
        self.log_probabilities = log_probabilities

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.linear(x.reshape(x.shape[0], -1))
        if torch.is_grad_enabled():
            scores = scores + self.shift
        return F.log_softmax(scores, dim=1) if self.log_probabilities else scores
