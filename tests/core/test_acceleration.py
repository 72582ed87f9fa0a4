"""The device settings: autocast only for course-length training on CUDA, and a usable no-op elsewhere."""

import torch

from autograder.acceleration import make_deterministic, training_precision, uses_autocast


def test_autocast_only_on_cuda_under_the_full_profile():
    assert uses_autocast(torch.device("cuda"), "full")
    assert not uses_autocast(torch.device("cuda"), "quick")
    assert not uses_autocast(torch.device("cpu"), "full")


def test_cpu_training_keeps_float32():
    model = torch.nn.Linear(4, 2)
    with training_precision(torch.device("cpu"), "full"):
        out = model(torch.randn(3, 4))
    assert out.dtype == torch.float32


def test_deterministic_settings_do_nothing_on_cpu():
    before = torch.are_deterministic_algorithms_enabled()
    make_deterministic(torch.device("cpu"))
    assert torch.are_deterministic_algorithms_enabled() == before
