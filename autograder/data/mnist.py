"""Read MNIST from IDX files, checking everything the header promises.

Layout (torchvision's): `<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`,
each either uncompressed or with a `.gz` suffix.

IDX format: a 4-byte big-endian magic number (two zero bytes, a type code,
the number of dimensions), one big-endian uint32 per dimension, then the
values. Images: magic 2051, dims (N, 28, 28). Labels: magic 2049, dims (N,).
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import torch

from autograder.i18n import _

from .errors import CorruptDataError, DataNotFoundError, fix_hint

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
IMAGE_SIZE = (28, 28)
NUM_CLASSES = 10

SPLIT_PREFIX = {True: "train", False: "t10k"}


def mnist_folder(root: str | Path) -> Path:
    """The folder that holds the IDX files: `<root>/MNIST/raw`."""
    return Path(root) / "MNIST" / "raw"


def file_stems(train: bool) -> tuple[str, str]:
    """The IDX file names (without `.gz`) for a split: (images, labels)."""
    prefix = SPLIT_PREFIX[bool(train)]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def find_idx(folder: Path, stem: str) -> Path | None:
    """The path of `stem` in `folder`, uncompressed preferred over `.gz`; None if neither."""
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def source_files(root: str | Path, train: bool) -> list[Path]:
    """The two files a split is read from: [images, labels].

    Raises DataNotFoundError naming every file that is missing.
    """
    folder = mnist_folder(root)
    found, missing = [], []
    for stem in file_stems(train):
        path = find_idx(folder, stem)
        if path is None:
            missing.append(stem)
        else:
            found.append(path)
    if missing:
        raise DataNotFoundError(_(
            "MNIST not found under {folder}: missing {files} (uncompressed or .gz). {fix}",
            folder=str(folder), files=", ".join(missing), fix=fix_hint("mnist")))
    return found


def _read_bytes(path: Path) -> bytes:
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except EOFError as e:
        raise CorruptDataError(_(
            "{path} is cut short: the gzip stream ends before its end marker "
            "(an interrupted download?). Delete it and download it again. ({error})",
            path=str(path), error=str(e))) from e
    except (gzip.BadGzipFile, zlib.error) as e:
        raise CorruptDataError(_(
            "{path} is not a valid gzip file ({error}). Delete it and download it again, "
            "or replace it with the uncompressed file of the same name without `.gz`.",
            path=str(path), error=str(e))) from e


def read_idx(path: str | Path, expected_magic: int) -> torch.Tensor:
    """Read one IDX file of unsigned bytes and return its values.

    Returns a uint8 tensor whose shape is the dimensions in the header.
    Raises CorruptDataError when the magic number is not `expected_magic`,
    the type is not unsigned byte, or the file size disagrees with the header.
    """
    path = Path(path)
    raw = _read_bytes(path)
    is_images = expected_magic == IMAGES_MAGIC
    if len(raw) < 4:
        raise CorruptDataError(_(
            "{path} is {size} bytes long, too short to be an IDX file "
            "(the header alone is at least 8 bytes). Delete it and download it again.",
            path=str(path), size=len(raw)))
    (magic,) = struct.unpack(">I", raw[:4])
    if magic != expected_magic:
        hint = ""
        if magic == (IMAGES_MAGIC if expected_magic == LABELS_MAGIC else LABELS_MAGIC):
            hint = _(" It looks like the images and labels files have been swapped.")
        elif raw[:2] == b"\x1f\x8b":
            hint = _(" It is gzip-compressed: name it with a `.gz` suffix or decompress it.")
        values = dict(path=str(path), magic=magic, expected=expected_magic, hint=hint)
        raise CorruptDataError(
            _("{path} is not an MNIST images file: its magic number is {magic}, expected {expected}.{hint}", **values)
            if is_images else
            _("{path} is not an MNIST labels file: its magic number is {magic}, expected {expected}.{hint}", **values))
    ndim = raw[3]
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise CorruptDataError(_(
            "{path} is cut short inside its header: {size} bytes, "
            "the header needs {needed}. Delete it and download it again.",
            path=str(path), size=len(raw), needed=header_len))
    dims = struct.unpack(f">{ndim}I", raw[4:header_len])
    expected_len = header_len + _product(dims)
    if len(raw) != expected_len:
        values = dict(path=str(path), dims=str(dims), expected=expected_len, size=len(raw),
                      note=_(" (after decompression)") if path.suffix == ".gz" else "")
        raise CorruptDataError(
            _("{path} is cut short: the header promises {dims} values, so {expected} bytes, but the file has "
              "{size} bytes{note}. Delete it and download it again.", **values)
            if len(raw) < expected_len else
            _("{path} is longer than its header says: the header promises {dims} values, so {expected} bytes, "
              "but the file has {size} bytes{note}. Delete it and download it again.", **values))
    values = torch.frombuffer(bytearray(raw[header_len:]), dtype=torch.uint8)
    return values.reshape(dims)


def _product(dims: tuple[int, ...]) -> int:
    total = 1
    for d in dims:
        total *= d
    return total


def check_images(images: torch.Tensor, path: Path) -> None:
    """Require images of shape (N, 28, 28)."""
    if images.dim() != 3 or tuple(images.shape[1:]) != IMAGE_SIZE:
        raise CorruptDataError(_("{path} holds images of shape {shape}; MNIST images are (N, 28, 28).",
                                 path=str(path), shape=str(tuple(images.shape))))


def check_labels(labels: torch.Tensor, path: Path) -> None:
    """Require a 1-D label vector with every value in 0..9."""
    if labels.dim() != 1:
        raise CorruptDataError(_("{path} holds labels of shape {shape}; MNIST labels are (N,).",
                                 path=str(path), shape=str(tuple(labels.shape))))
    bad = (labels >= NUM_CLASSES).nonzero().flatten()
    if bad.numel():
        first = int(bad[0])
        raise CorruptDataError(_(
            "{path} has {n} label(s) outside 0..9; the first is {label} at index {index}. "
            "The file is damaged or is not MNIST.",
            path=str(path), n=bad.numel(), label=int(labels[first]), index=first))


def load_mnist(root: str | Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode one MNIST split from `<root>/MNIST/raw`.

    Returns (images, labels): images uint8 (N, 28, 28), values 0..255;
    labels int64 (N,), values 0..9.
    Raises DataNotFoundError when a file is missing and CorruptDataError when
    one is damaged.
    """
    images_path, labels_path = source_files(root, train)
    images = read_idx(images_path, IMAGES_MAGIC)
    check_images(images, images_path)
    labels = read_idx(labels_path, LABELS_MAGIC)
    check_labels(labels, labels_path)
    if images.shape[0] != labels.shape[0]:
        raise CorruptDataError(_(
            "MNIST {split} files disagree: {images_path} has {images} images but {labels_path} has {labels} labels. "
            "Both must come from the same download.",
            split=SPLIT_PREFIX[bool(train)], images_path=str(images_path), images=images.shape[0],
            labels_path=str(labels_path), labels=labels.shape[0]))
    return images, labels.to(torch.int64)
