"""Builders of small, synthetic MNIST and CIFAR-10 folders for the data tests."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
from autograder.data import cifar10, mnist


def idx_bytes(magic: int, values: np.ndarray) -> bytes:
    """An IDX file: magic, one big-endian uint32 per dimension, then the uint8 values."""
    dims = values.shape
    return struct.pack(f">I{len(dims)}I", magic, *dims) + values.astype(np.uint8).tobytes()


def write_mnist(root: Path, train: bool = True, n: int = 6, gz: bool = False,
                labels: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Write one MNIST split of `n` random images under `root`; return (images, labels)."""
    rng = np.random.default_rng(n + train)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labs = np.array(labels if labels is not None else [i % 10 for i in range(n)], dtype=np.uint8)
    folder = mnist.mnist_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    for stem, magic, values in zip(mnist.file_stems(train), (mnist.IMAGES_MAGIC, mnist.LABELS_MAGIC),
                                   (images, labs)):
        data = idx_bytes(magic, values)
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)
    return images, labs


def cifar_batch(n: int = 4, seed: int = 0, labels: list[int] | None = None) -> dict:
    """A CIFAR-10 batch dict with `n` random images."""
    rng = np.random.default_rng(seed)
    return {
        "batch_label": f"synthetic batch {seed}",
        "labels": labels if labels is not None else [(seed + i) % 10 for i in range(n)],
        "data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
        "filenames": [f"img_{seed}_{i}.png" for i in range(n)],
    }


def write_pickle(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(obj, protocol=2))


def write_cifar(root: Path, n: int = 4, meta: bool = True) -> dict[str, dict]:
    """Write all six CIFAR-10 batches (n images each) under `root`; return them by file name."""
    folder = cifar10.cifar_folder(root)
    batches = {}
    for seed, name in enumerate(cifar10.TRAIN_BATCHES + cifar10.TEST_BATCHES):
        batches[name] = cifar_batch(n, seed)
        write_pickle(folder / name, batches[name])
    if meta:
        write_pickle(folder / cifar10.META_FILE, {"label_names": list(cifar10.CIFAR10_CLASSES),
                                                  "num_cases_per_batch": n, "num_vis": 3072})
    return batches
