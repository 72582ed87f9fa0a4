"""Checks for week1/tensor_ops.py."""

import torch

from autograder.expect import expect_shape, expect_tensor, expect_tensor_like, fail
from autograder.i18n import _

LAB_MATRIX = [[2.0, 5.0, 3.0, 7.0], [4.0, 2.0, 1.0, 9.0]]


def _random_size(low: int = 2, high: int = 7) -> int:
    return int(torch.randint(low, high, ()).item())


def test_matvec_float_vector(student):
    m = torch.randn(_random_size(), 5, dtype=torch.float64)
    v = torch.randn(5, dtype=torch.float64)
    expect_tensor_like(student.matvec(m, v), m @ v, _("{call} with a float64 vector", call="matvec(m, v)"), atol=1e-12)


def test_matvec_integer_vector(student):
    m = torch.tensor(LAB_MATRIX)
    v = torch.arange(1, 5)
    expect_tensor_like(
        student.matvec(m, v), torch.tensor([49.0, 47.0]), _("{call} with the lab's int64 vector", call="matvec(m, v)"),
        hint=_("m is float32 and v is int64; convert v to m's dtype before multiplying (v.to(m.dtype))."),
    )


def test_first_row_product(student):
    m = torch.randn(_random_size(), 4)
    v = torch.arange(1, 5)
    expected = m[[0], :] @ v.float()
    expect_tensor_like(student.first_row_product(m, v), expected, "first_row_product(m, v)",
                       hint=_("m[[0], :] keeps the row dimension, so the result has shape (1,)."))


def test_concat_rows(student):
    a, b = torch.randn(2, 3), torch.randn(_random_size(), 3)
    expect_tensor_like(student.concat_rows(a, b), torch.cat((a, b), 0), "concat_rows(a, b)",
                       hint=_("rows are dimension 0."))


def test_concat_cols(student):
    a, b = torch.randn(3, 2), torch.randn(3, _random_size())
    expect_tensor_like(student.concat_cols(a, b), torch.cat((a, b), 1), "concat_cols(a, b)",
                       hint=_("columns are dimension 1."))


def test_transpose(student):
    m = torch.randn(_random_size(), _random_size(8, 12))
    expect_tensor_like(student.transpose(m), m.T, "transpose(m)")


def test_normal_samples_reproducible(student):
    first = student.normal_samples(1000, seed=7)
    again = student.normal_samples(1000, seed=7)
    other = student.normal_samples(1000, seed=8)
    expected = torch.randn(1000, generator=torch.Generator().manual_seed(7))
    expect_tensor_like(first, expected, "normal_samples(1000, seed=7)", atol=0, rtol=0,
                       hint=_("draw from a torch.Generator seeded with `seed`."))
    expect_tensor_like(again, first, _("a second call of {call}", call="normal_samples(1000, seed=7)"), atol=0, rtol=0)
    if torch.equal(first, other):
        fail(_("{name} gave the same samples for seeds {first} and {second}, expected different ones",
               name="normal_samples", first=7, second=8))


def test_normal_samples_leave_global_rng_alone(student, worker):
    torch_there = worker.module("torch")
    seed = int(torch.randint(0, 2**31 - 1, ()).item())
    torch_there.manual_seed(seed)
    samples = student.normal_samples(10, seed=3)
    expect_tensor(samples, "normal_samples(10, seed=3)")  # a point for leaving the state alone, not for doing nothing
    expect_shape(samples, (10,), "normal_samples(10, seed=3)")
    after = torch_there.randn(8)   # the global generator's next draws, in the worker
    if not torch.equal(after, torch.randn(8, generator=torch.Generator().manual_seed(seed))):
        fail(_("{name} changed PyTorch's global random state, expected it to leave it alone", name="normal_samples"),
             hint=_("torch.manual_seed reseeds everyone's random numbers; use a torch.Generator instead."))
