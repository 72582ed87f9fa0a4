"""Week 1, exercise 1: tensor basics.

Each function below replaces a step of the lab's tensor walk-through. Keep the
names and signatures: the autograder imports them.
"""

import torch


def matvec(m: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Matrix-vector product ``m @ v`` that also works when ``v`` is an integer tensor.

    The lab's own example fails here: ``torch.Tensor([[2, 5, 3, 7], [4, 2, 1, 9]]) @ torch.arange(1, 5)``
    raises "expected both operands to have the same dtype" (float32 matrix, int64 vector).

    Args:
        m: (R, C) floating-point matrix.
        v: (C,) vector, possibly of an integer dtype.

    Returns:
        (R,) tensor in ``m``'s dtype.
    """
    result = m @ v.to(m.dtype)
    return result


def first_row_product(m: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The first row of ``m``, selected with fancy indexing ``m[[0], :]``, times ``v``.

    Args:
        m: (R, C) floating-point matrix.
        v: (C,) vector, possibly of an integer dtype.

    Returns:
        (1,) tensor in ``m``'s dtype.
    """
    result = m[0, :] @ v.to(m.dtype)
    return result


def concat_rows(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Stack ``a`` (R1, C) on top of ``b`` (R2, C): returns (R1 + R2, C)."""
    result = torch.cat((a, b), dim=0)
    return result


def concat_cols(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Put ``b`` (R, C2) to the right of ``a`` (R, C1): returns (R, C1 + C2)."""
    result = torch.cat((a, b), dim=1)
    return result


def transpose(m: torch.Tensor) -> torch.Tensor:
    """The transpose of a matrix: (R, C) -> (C, R)."""
    result = m.t()
    return result


def normal_samples(n: int, seed: int) -> torch.Tensor:
    """``n`` samples from the standard normal distribution, the same for the same ``seed``.

    Must not change PyTorch's global random state: calling it between two
    ``torch.randn`` calls must not change what the second one returns.

    Returns:
        (n,) float32 tensor.
    """
    generator = torch.Generator().manual_seed(seed)
    result = torch.randn(n, generator=generator)
    return result
