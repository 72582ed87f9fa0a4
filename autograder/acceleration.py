"""Device settings for grading runs: determinism everywhere, bf16 autocast for course-length GPU training.

Measured on a 2-core CPU (``docs/benchmarks/cpu_settings.md``): bf16 autocast
makes training 1.5x to 25x slower there, so it applies on CUDA only, and only
around training under the full profile, never around checks that compare
values with a tolerance. Channels-last is not imposed at all: the course's
``x.view(-1, 16 * 5 * 5)`` raises on channels-last activations.
"""

from __future__ import annotations

import contextlib
import os

import torch


def make_deterministic(device: torch.device) -> None:
    """Settings that make a grading run repeatable on ``device`` (the same results for the same code)."""
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS's documented requirement
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        # float32 stays float32: checks compare with values recorded on the CPU (a handout), and TF32
        # keeps 10 bits of mantissa; course-length training runs under bf16 autocast anyway
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.use_deterministic_algorithms(True, warn_only=True)


def uses_autocast(device: torch.device, profile: str) -> bool:
    """Whether course-length training on ``device`` runs under bf16 autocast."""
    return device.type == "cuda" and profile == "full"


def training_precision(device: torch.device, profile: str) -> contextlib.AbstractContextManager:
    """Wrap a training loop: bf16 autocast on CUDA under the full profile, nothing otherwise."""
    if uses_autocast(device, profile):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()

