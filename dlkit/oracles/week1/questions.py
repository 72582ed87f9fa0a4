"""Reference values for the checks of week1/questions.py."""

from __future__ import annotations

from dlkit.reference import load_reference


def gradient_norms(depth: int, activation: str, seed: int) -> list[float]:
    """The reference ``gradient_norms``: one float per Linear layer, first layer first."""
    return load_reference("week1", "questions").gradient_norms(depth, activation, seed=seed)
