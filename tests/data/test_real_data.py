"""The course's offline copy, read for real: skipped where it is not beside the checkout."""

import os
from pathlib import Path

import pytest
import torch

from autograder.data import cache, cifar10_tensors, mnist_tensors, status
from autograder.data.root import KIT_ROOT


def _shared_data() -> Path | None:
    candidates = [os.environ.get("DLKIT_DATA"), KIT_ROOT.parent / "shared" / "data"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "MNIST" / "raw").is_dir():
            return Path(candidate)
    return None


SHARED = _shared_data()
pytestmark = pytest.mark.skipif(
    SHARED is None,
    reason="no offline data: neither $DLKIT_DATA nor ../shared/data beside the checkout holds MNIST/raw",
)


def test_real_sets_have_the_documented_sizes(isolated_cache):
    expected = {
        (mnist_tensors, True): (14000, 28, 28),
        (mnist_tensors, False): (10000, 28, 28),
        (cifar10_tensors, True): (50000, 3, 32, 32),
        (cifar10_tensors, False): (10000, 3, 32, 32),
    }
    for (load, train), shape in expected.items():
        images, labels = load(train, SHARED)
        assert images.shape == shape and images.dtype == torch.uint8
        assert labels.shape == shape[:1] and labels.dtype == torch.int64
        assert int(labels.min()) == 0 and int(labels.max()) == 9
    assert mnist_tensors(False, SHARED)[1][:5].tolist() == [7, 2, 1, 0, 4]
    assert torch.equal(cifar10_tensors(False, SHARED)[1].bincount(), torch.full((10,), 1000))
    cache.clear_memo()
    assert [r.count for r in status(SHARED)] == [14000, 10000, 50000, 10000]
    for dataset in ("mnist", "cifar10"):  # cached beside the data if the root is writable, else in the kit's cache
        for train in (True, False):
            assert any(path.is_file() for path in cache.cache_files(dataset, train, SHARED)), (dataset, train)
