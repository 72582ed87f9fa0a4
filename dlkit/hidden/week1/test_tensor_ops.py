"""Hidden checks for week1/tensor_ops.py: run by ``dlkit grade`` only, on inputs drawn from the class
seed, so nothing a student's handout holds (its recorded values, its checks) predicts them."""

import torch

from autograder.expect import expect_tensor_like
from autograder.i18n import _


def test_matvec_unseen_shapes(student):
    for _draw in range(3):
        rows, columns = (int(n) for n in torch.randint(1, 9, (2,)))
        m = torch.randn(rows, columns, dtype=torch.float32)
        v = torch.randint(-5, 6, (columns,))
        expect_tensor_like(student.matvec(m, v), m @ v.to(m.dtype),
                           _("{call} for a float32 {shape} matrix and an int64 vector", call="matvec(m, v)",
                             shape=str((rows, columns))),
                           atol=1e-5, rtol=1e-5)
