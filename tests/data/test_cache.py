import dataclasses
import os
import stat

import pytest
import torch

from autograder.data import cache, cifar10_tensors, mnist_tensors
from tests.data.data_builders import write_cifar, write_mnist


@pytest.fixture
def decodes(monkeypatch):
    """Count how often each data set is decoded from its source files."""
    counts = {"mnist": 0, "cifar10": 0}
    for name, spec in cache.DATASETS.items():
        def counting(root, train, _decode=spec.decode, _name=name):
            counts[_name] += 1
            return _decode(root, train)
        monkeypatch.setitem(cache.DATASETS, name, dataclasses.replace(spec, decode=counting))
    return counts


def _cache_file(root, dataset="mnist", split="train"):
    return root / ".dlkit_cache" / f"{dataset}-{split}.pt"


def test_first_load_decodes_and_writes_then_hits(tmp_path, decodes):
    images, _ = write_mnist(tmp_path, n=5)
    first = cache.load_tensors("mnist", True, tmp_path)
    assert decodes["mnist"] == 1 and _cache_file(tmp_path).is_file()
    second = cache.load_tensors("mnist", True, tmp_path)
    assert decodes["mnist"] == 1
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert second[0].dtype == torch.uint8 and second[1].dtype == torch.int64
    assert not [p for p in _cache_file(tmp_path).parent.iterdir() if p.suffix == ".tmp"]


def test_changed_source_makes_cache_stale(tmp_path, decodes):
    write_mnist(tmp_path, n=5)
    cache.load_tensors("mnist", True, tmp_path)
    write_mnist(tmp_path, n=8)
    images, _ = cache.load_tensors("mnist", True, tmp_path)
    assert decodes["mnist"] == 2 and images.shape[0] == 8
    cache.load_tensors("mnist", True, tmp_path)
    assert decodes["mnist"] == 2


def test_same_size_but_new_mtime_is_stale(tmp_path, decodes):
    write_mnist(tmp_path, n=5)
    cache.load_tensors("mnist", True, tmp_path)
    labels = tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    st = labels.stat()
    os.utime(labels, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    cache.load_tensors("mnist", True, tmp_path)
    assert decodes["mnist"] == 2


def test_format_version_change_makes_cache_stale(tmp_path, decodes, monkeypatch):
    write_mnist(tmp_path)
    cache.load_tensors("mnist", True, tmp_path)
    monkeypatch.setattr(cache, "FORMAT_VERSION", cache.FORMAT_VERSION + 1)
    cache.load_tensors("mnist", True, tmp_path)
    assert decodes["mnist"] == 2


@pytest.mark.parametrize("garbage", [b"", b"definitely not a torch file", None])
def test_corrupt_cache_is_ignored_and_rebuilt(tmp_path, decodes, garbage):
    write_mnist(tmp_path, n=5)
    cache.load_tensors("mnist", True, tmp_path)
    path = _cache_file(tmp_path)
    if garbage is None:
        torch.save({"fingerprint": torch.load(path)["fingerprint"], "images": torch.zeros(3)}, path)
    else:
        path.write_bytes(garbage)
    images, labels = cache.load_tensors("mnist", True, tmp_path)
    assert images.shape == (5, 28, 28) and decodes["mnist"] == 2
    cache.load_tensors("mnist", True, tmp_path)
    assert decodes["mnist"] == 2


def test_read_only_root_falls_back_to_kit_cache(tmp_path, decodes, isolated_cache):
    root = tmp_path / "shared"
    write_mnist(root)
    os.chmod(root, stat.S_IRUSR | stat.S_IXUSR)
    try:
        cache.load_tensors("mnist", True, root)
        cache.load_tensors("mnist", True, root)
        assert not (root / ".dlkit_cache").exists()
    finally:
        os.chmod(root, 0o755)
    assert decodes["mnist"] == 1
    assert [p.name.startswith("mnist-train-") for p in isolated_cache.iterdir()] == [True]


def test_nowhere_to_write_still_loads(tmp_path, decodes, monkeypatch, caplog):
    root = tmp_path / "shared"
    write_mnist(root, n=4)
    monkeypatch.setattr(cache, "fallback_cache_dir", lambda: root / "fallback")
    os.chmod(root, stat.S_IRUSR | stat.S_IXUSR)
    try:
        with caplog.at_level("INFO", logger="dlkit.data"):
            images, _ = cache.load_tensors("mnist", True, root)
            cache.load_tensors("mnist", True, root)
    finally:
        os.chmod(root, 0o755)
    assert images.shape[0] == 4 and decodes["mnist"] == 2
    assert "not caching mnist train" in caplog.text
    assert not (root / ".dlkit_cache").exists() and not (root / "fallback").exists()


def test_roots_do_not_share_fallback_files(tmp_path):
    a, b = cache.cache_files("mnist", True, tmp_path / "a"), cache.cache_files("mnist", True, tmp_path / "b")
    assert a[-1] != b[-1] and a[0].parent == tmp_path / "a" / ".dlkit_cache"


def test_public_loaders_are_memoised_per_root_and_split(tmp_path, decodes):
    write_mnist(tmp_path, train=True)
    write_mnist(tmp_path, train=False, n=3)
    write_cifar(tmp_path)
    assert mnist_tensors(True, tmp_path) is mnist_tensors(True, str(tmp_path))
    assert mnist_tensors(False, tmp_path)[0].shape == (3, 28, 28)
    images, labels = cifar10_tensors(False, tmp_path)
    assert images.shape == (4, 3, 32, 32) and labels.dtype == torch.int64
    cifar10_tensors(False, tmp_path)
    assert decodes == {"mnist": 2, "cifar10": 1}


def test_public_loaders_follow_dlkit_data(tmp_path, monkeypatch):
    write_mnist(tmp_path, n=2)
    monkeypatch.setenv("DLKIT_DATA", str(tmp_path))
    assert mnist_tensors(True)[0].shape == (2, 28, 28)


def test_writing_to_cached_tensors_leaves_the_cache_file_alone(tmp_path, decodes):
    images, _ = write_mnist(tmp_path, n=3)
    cache.load_tensors("mnist", True, tmp_path)
    hit, _ = cache.load_tensors("mnist", True, tmp_path)
    hit.zero_()
    again, _ = cache.load_tensors("mnist", True, tmp_path)
    assert decodes["mnist"] == 1 and torch.equal(again, torch.from_numpy(images))
