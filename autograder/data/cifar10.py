"""Read CIFAR-10 from its python pickle batches, checking each one.

Layout (torchvision's): `<root>/cifar-10-batches-py/` with `data_batch_1..5`,
`test_batch` and `batches.meta`. Each batch is a pickled dict with keys
`data` (uint8 array (N, 3072): 1024 red, 1024 green, 1024 blue values, each
plane row-major 32x32), `labels` (N ints in 0..9), `filenames` (N names) and
`batch_label` (a string).

No MD5 sums are checked: a reshuffled copy of the data set (such as the
course's offline copy) is as good as the official one.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from autograder.i18n import _

from .errors import CorruptDataError, DataError, DataNotFoundError, fix_hint

FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCHES = ("test_batch",)
META_FILE = "batches.meta"
REQUIRED_KEYS = ("data", "labels", "filenames", "batch_label")
ROW_LENGTH = 3 * 32 * 32

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("_codecs", "encode"),
}


class _RefusedGlobal(pickle.UnpicklingError):
    """A pickle asked for a Python object that no CIFAR-10 batch contains."""


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """An unpickler that builds numpy arrays and plain containers, nothing else.

    A batch file is data; refusing every other global means a file fetched
    from an untrusted mirror cannot run code when it is read.
    """

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise _RefusedGlobal(f"{module}.{name}")
        if module.startswith("numpy.core.") and hasattr(np, "_core"):
            module = module.replace("numpy.core.", "numpy._core.", 1)
        return super().find_class(module, name)


def cifar_folder(root: str | Path) -> Path:
    """The folder that holds the batches: `<root>/cifar-10-batches-py`."""
    return Path(root) / FOLDER


def batch_names(train: bool) -> tuple[str, ...]:
    """The batch file names of a split, in reading order."""
    return TRAIN_BATCHES if train else TEST_BATCHES


def source_files(root: str | Path, train: bool) -> list[Path]:
    """The batch files a split is read from, in order.

    Raises DataNotFoundError naming every batch that is missing.
    """
    folder = cifar_folder(root)
    paths = [folder / name for name in batch_names(train)]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise DataNotFoundError(_("CIFAR-10 not found under {folder}: missing {files}. {fix}",
                                  folder=str(folder), files=", ".join(missing), fix=fix_hint("cifar10")))
    return paths


def unpickle(path: Path) -> Any:
    """Load one pickle file the way CIFAR-10 was written (latin1 strings).

    Raises CorruptDataError when the file cannot be unpickled.
    """
    try:
        with path.open("rb") as f:
            return _ArrayOnlyUnpickler(f, encoding="latin1").load()
    except OSError as e:
        raise DataError(_("{path} cannot be opened: {error}", path=str(path), error=str(e))) from e
    except _RefusedGlobal as e:
        raise CorruptDataError(_(
            "{path} is not a CIFAR-10 batch: it asks to build the Python object {name}, "
            "and a batch holds only arrays, lists and strings. Not loading it, because "
            "unpickling such a file can run code. Replace it with a copy from the official archive.",
            path=str(path), name=str(e))) from e
    except Exception as e:
        error = f"{type(e).__name__}: {e}"
        raise CorruptDataError(_(
            "{path} cannot be read as a CIFAR-10 batch: {error}. "
            "The file is damaged or cut short; delete the {folder} folder "
            "and run `dlkit data download cifar10`, or copy it again.",
            path=str(path), error=error, folder=path.parent.name)) from e


def read_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read and check one batch file.

    Returns (data, labels): data uint8 (N, 3072), labels int64 (N,), values 0..9.
    Raises CorruptDataError naming the file and what is wrong with it.
    """
    path = Path(path)
    batch = unpickle(path)
    if not isinstance(batch, dict):
        raise CorruptDataError(_("{path} holds a {type}, not the dict a CIFAR-10 batch is.",
                                 path=str(path), type=type(batch).__name__))
    missing = [k for k in REQUIRED_KEYS if k not in batch]
    if missing:
        raise CorruptDataError(_(
            "{path} is missing the key(s) {missing}; a CIFAR-10 batch has {required} (it has {present}).",
            path=str(path), missing=", ".join(repr(k) for k in missing),
            required=", ".join(repr(k) for k in REQUIRED_KEYS), present=", ".join(repr(k) for k in batch)))
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != ROW_LENGTH:
        if isinstance(data, np.ndarray):
            raise CorruptDataError(_(
                "{path}: 'data' is a {type} of dtype {dtype} and shape {shape}; expected a uint8 array of shape "
                "(N, {length}).", path=str(path), type=type(data).__name__, dtype=str(data.dtype),
                shape=str(data.shape), length=ROW_LENGTH))
        raise CorruptDataError(_("{path}: 'data' is a {type}; expected a uint8 array of shape (N, {length}).",
                                 path=str(path), type=type(data).__name__, length=ROW_LENGTH))
    try:
        labels = np.asarray(batch["labels"], dtype=np.int64)
    except (TypeError, ValueError) as e:
        raise CorruptDataError(_("{path}: 'labels' is not a list of integers ({error}).",
                                 path=str(path), error=str(e))) from e
    if labels.ndim != 1 or len(labels) != len(data) or len(batch["filenames"]) != len(data):
        raise CorruptDataError(_(
            "{path} disagrees with itself: {images} images, {labels} labels, {names} file names; "
            "all three counts must be equal.",
            path=str(path), images=len(data), labels=labels.size, names=len(batch["filenames"])))
    bad = np.flatnonzero((labels < 0) | (labels >= len(CIFAR10_CLASSES)))
    if bad.size:
        raise CorruptDataError(_(
            "{path} has {n} label(s) outside 0..9; the first is {label} at index {index}. "
            "Is this CIFAR-100 rather than CIFAR-10?",
            path=str(path), n=int(bad.size), label=int(labels[bad[0]]), index=int(bad[0])))
    return data, labels


def check_class_names(root: str | Path) -> None:
    """Compare `batches.meta` with CIFAR10_CLASSES when the file is there.

    Raises CorruptDataError when the names differ or the file is unreadable.
    """
    path = cifar_folder(root) / META_FILE
    if not path.is_file():
        return
    meta = unpickle(path)
    names = meta.get("label_names") if isinstance(meta, dict) else None
    if names is None:
        raise CorruptDataError(_("{path} has no 'label_names'; it is not CIFAR-10's meta file.", path=str(path)))
    if tuple(names) != CIFAR10_CLASSES:
        raise CorruptDataError(_(
            "{path} names the classes {names}; CIFAR-10's are {expected}. This folder holds some other data set.",
            path=str(path), names=str(list(names)), expected=str(list(CIFAR10_CLASSES))))


def load_cifar10(root: str | Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode one CIFAR-10 split from `<root>/cifar-10-batches-py`.

    Returns (images, labels): images uint8 (N, 3, 32, 32), channels RGB,
    values 0..255; labels int64 (N,), values 0..9 indexing CIFAR10_CLASSES.
    N is 50000 for train and 10000 for test with the full data set.
    Raises DataNotFoundError when a batch is missing and CorruptDataError when
    one is damaged.
    """
    paths = source_files(root, train)
    check_class_names(root)
    batches = [read_batch(p) for p in paths]
    data = np.concatenate([d for d, _labels in batches])
    labels = np.concatenate([lab for _, lab in batches])
    images = torch.from_numpy(data).reshape(-1, 3, 32, 32)
    return images, torch.from_numpy(labels)
