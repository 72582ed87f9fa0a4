"""Decode each data set once, then load the decoded tensors from disk.

After the first decode of a split, its uint8 tensors are saved with
`torch.save` as `<root>/.dlkit_cache/<dataset>-<split>.pt`, next to a
fingerprint of the source files (relative path, size and mtime_ns of each,
and FORMAT_VERSION). A later load uses that file only when the fingerprint
still matches; otherwise it decodes again and rewrites it. Cache files are
memory-mapped copy-on-write: loading costs almost nothing, pages are read on
first use, and writing to a loaded tensor never changes the file.

When the data root cannot be written (the course's shared copy is
read-only), the file goes to `<kit root>/data_cache/.dlkit_cache/` under a
name that includes a hash of the root. When neither can be written, nothing
is cached and the reason is logged at INFO level on the `dlkit.data` logger;
loading never fails because of the cache. A cache file that cannot be read
is ignored and rebuilt.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from . import cifar10, mnist
from .errors import DataError
from .root import data_root, default_root

FORMAT_VERSION = 1
CACHE_DIRNAME = ".dlkit_cache"

log = logging.getLogger("dlkit.data")


@dataclass(frozen=True)
class DatasetSpec:
    """How to find, decode and sanity-check one data set."""

    name: str
    """Short name used in cache file names and commands: `mnist`, `cifar10`."""
    title: str
    """Name people write: `MNIST`, `CIFAR-10`."""
    sources: Callable[[Path, bool], list[Path]]
    """(root, train) -> the files the split is decoded from; raises DataNotFoundError."""
    decode: Callable[[Path, bool], tuple[torch.Tensor, torch.Tensor]]
    """(root, train) -> (uint8 images, int64 labels); raises DataError."""
    image_shape: tuple[int, ...]
    """Shape of one image: (28, 28) or (3, 32, 32)."""


DATASETS = {
    "mnist": DatasetSpec("mnist", "MNIST", mnist.source_files, mnist.load_mnist, (28, 28)),
    "cifar10": DatasetSpec("cifar10", "CIFAR-10", cifar10.source_files, cifar10.load_cifar10, (3, 32, 32)),
}


def split_name(train: bool) -> str:
    """`train` or `test`."""
    return "train" if train else "test"


def fingerprint(root: Path, files: list[Path]) -> dict[str, Any]:
    """What a cache file must match: FORMAT_VERSION and (path, size, mtime_ns) per source file."""
    entries = []
    for path in files:
        st = path.stat()
        entries.append([path.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns])
    return {"version": FORMAT_VERSION, "files": entries}


def fallback_cache_dir() -> Path:
    """Where cache files go when the data root is read-only: `<kit>/data_cache/.dlkit_cache`."""
    return default_root() / CACHE_DIRNAME


def cache_files(dataset: str, train: bool, root: Path) -> list[Path]:
    """Candidate cache files for a split, in the order they are tried."""
    stem = f"{dataset}-{split_name(train)}"
    primary = root / CACHE_DIRNAME / f"{stem}.pt"
    root_hash = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    fallback = fallback_cache_dir() / f"{stem}-{root_hash}.pt"
    if primary.parent.resolve() == fallback.parent.resolve():
        return [primary]
    return [primary, fallback]


def _read_cache(
    path: Path, expected: dict[str, Any], spec: DatasetSpec
) -> tuple[torch.Tensor, torch.Tensor] | None:
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as e:
        log.info("ignoring unreadable cache file %s (%s: %s)", path, type(e).__name__, e)
        return None
    if not isinstance(payload, dict) or payload.get("fingerprint") != expected:
        log.info("cache file %s is stale; decoding the source files again", path)
        return None
    images, labels = payload.get("images"), payload.get("labels")
    if (
        not isinstance(images, torch.Tensor)
        or not isinstance(labels, torch.Tensor)
        or images.dtype != torch.uint8
        or labels.dtype != torch.int64
        or tuple(images.shape[1:]) != spec.image_shape
        or labels.shape != images.shape[:1]
    ):
        log.info("ignoring malformed cache file %s", path)
        return None
    return images, labels


def _marked_writable(folder: Path) -> bool:
    """Whether the nearest existing folder on the way to `folder` may be written.

    Checks the mode bits as well as access(2), so that a folder marked
    read-only stays untouched even for a user (such as root) who could
    write it anyway.
    """
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return os.access(probe, os.W_OK) and bool(probe.stat().st_mode & 0o222)


def _write_cache(path: Path, payload: dict[str, Any]) -> None:
    if not _marked_writable(path.parent):
        raise PermissionError(f"{path.parent} is read-only")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def load_tensors(dataset: str, train: bool, root: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Load one split from the tensor cache, decoding and caching it when needed.

    `dataset` is `mnist` or `cifar10`; `root` is the data root (no resolution).
    Returns (images uint8 (N, *image_shape), labels int64 (N,)), freshly loaded.
    Raises DataError when the source files are missing or damaged.
    """
    spec = DATASETS[dataset]
    root = Path(root)
    try:
        expected = fingerprint(root, spec.sources(root, train))
        candidates = cache_files(dataset, train, root)
        for path in candidates:
            hit = _read_cache(path, expected, spec)
            if hit is not None:
                return hit
        images, labels = spec.decode(root, train)
    except DataError as error:
        error.dataset = error.dataset or spec.title
        raise
    payload = {"fingerprint": expected, "images": images, "labels": labels}
    for path in candidates:
        try:
            _write_cache(path, payload)
            return images, labels
        except (OSError, RuntimeError) as e:
            log.info("cannot write cache file %s (%s)", path, e)
    log.info("not caching %s %s: no writable cache folder", dataset, split_name(train))
    return images, labels


@functools.lru_cache(maxsize=None)
def _memoised(dataset: str, train: bool, root: Path) -> tuple[torch.Tensor, torch.Tensor]:
    return load_tensors(dataset, train, root)


def clear_memo() -> None:
    """Forget the tensors this process has loaded (the files on disk stay)."""
    _memoised.cache_clear()


def mnist_tensors(
    train: bool = True, root: str | Path | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as tensors, loaded once per process and data root.

    Returns (images, labels): images uint8 (N, 28, 28), values 0..255;
    labels int64 (N,), values 0..9. `root` is resolved by `data_root`.
    The same tensor objects are returned to every caller: treat them as
    read-only (`.float()`, `.clone()` make copies).
    Raises DataError when the data is missing or damaged.
    """
    return _memoised("mnist", bool(train), data_root(root).resolve())


def cifar10_tensors(
    train: bool = True, root: str | Path | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 as tensors, loaded once per process and data root.

    Returns (images, labels): images uint8 (N, 3, 32, 32), RGB, values
    0..255; labels int64 (N,), values 0..9 indexing CIFAR10_CLASSES.
    `root` is resolved by `data_root`. The same tensor objects are returned
    to every caller: treat them as read-only.
    Raises DataError when the data is missing or damaged.
    """
    return _memoised("cifar10", bool(train), data_root(root).resolve())
