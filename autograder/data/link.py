"""Make a copy of the data sets you already have visible under the data root.

`link(src, root)` mirrors the data files of a torchvision-style folder (one
that holds `MNIST/raw/` and/or `cifar-10-batches-py/`) into the data root as
symbolic links (or copies), creating real folders on the root's side so that
nothing is ever written into `src`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder.i18n import _

from . import cifar10, mnist
from .errors import DataError, DataNotFoundError
from .root import data_root


@dataclass(frozen=True)
class Linked:
    """One data file made available under the data root."""

    source: Path
    """The file in `src`."""
    dest: Path
    """Where it now appears under the data root."""
    how: str
    """`linked`, `copied` or `already there`."""


def data_files(src: Path) -> list[Path]:
    """The MNIST and CIFAR-10 files present under `src`, in torchvision's layout."""
    names = []
    for train in (True, False):
        for stem in mnist.file_stems(train):
            names += [Path("MNIST", "raw", stem), Path("MNIST", "raw", f"{stem}.gz")]
    batches = cifar10.TRAIN_BATCHES + cifar10.TEST_BATCHES + (cifar10.META_FILE,)
    names += [Path(cifar10.FOLDER, name) for name in batches]
    return [src / name for name in names if (src / name).is_file()]


def _copy(source: Path, dest: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    os.close(fd)
    try:
        shutil.copy2(source, tmp)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


def link(src: str | Path, root: str | Path | None = None, copy: bool = False) -> list[Linked]:
    """Make the data files under `src` appear under the data root.

    Each file is symlinked (or copied when `copy` is true, or when the system
    refuses symlinks). Files already linked to the same source are left as
    they are. Returns one Linked per file.
    Raises DataNotFoundError when `src` holds no data files, and DataError
    when a different file already sits where a link would go (nothing is
    changed in that case) or when `src` and the data root overlap.
    """
    source_root = Path(src).expanduser().resolve()
    target_root = data_root(root)
    if not source_root.is_dir():
        raise DataNotFoundError(_("{src} is not a folder; pass the folder that holds MNIST/ or {folder}/.",
                                  src=str(src), folder=cifar10.FOLDER))
    resolved_target = target_root.resolve()
    if resolved_target == source_root or source_root in resolved_target.parents:
        raise DataError(_(
            "The data root {root} is {src} or inside it; linking would write into {src}. "
            "Choose another data root with --data-root, or use DLKIT_DATA={source} directly.",
            root=str(target_root), src=str(src), source=str(source_root)))
    files = data_files(source_root)
    if not files:
        guess = next((p for p in source_root.parents[:2] if data_files(p)), None)
        hint = _(" Did you mean {guess}?", guess=str(guess)) if guess else ""
        raise DataNotFoundError(_(
            "Found no MNIST or CIFAR-10 files under {source}. Expected torchvision's layout: "
            "{source}/MNIST/raw/train-images-idx3-ubyte ... and/or {source}/{folder}/data_batch_1 ...; "
            "pass the folder that contains MNIST/ and {folder}/.{hint}",
            source=str(source_root), folder=cifar10.FOLDER, hint=hint))
    plan, conflicts = [], []
    for file in files:
        dest = target_root / file.relative_to(source_root)
        if dest.exists() or dest.is_symlink():
            if dest.resolve() == file.resolve():
                plan.append(Linked(file, dest, "already there"))
            else:
                conflicts.append(str(dest))
        else:
            plan.append(Linked(file, dest, "copied" if copy else "linked"))
    if conflicts:
        raise DataError(_(
            "Not linking anything: these files already exist under {root} and are not links to {source}:\n"
            "  {files}\nMove or delete them first if you want the copies from the source folder.",
            root=str(target_root), source=str(source_root), files="\n  ".join(conflicts)))
    done = []
    for item in plan:
        if item.how == "already there":
            done.append(item)
            continue
        item.dest.parent.mkdir(parents=True, exist_ok=True)
        if item.how == "linked":
            try:
                os.symlink(item.source, item.dest)
            except OSError:
                _copy(item.source, item.dest)
                item = Linked(item.source, item.dest, "copied")
        else:
            _copy(item.source, item.dest)
        done.append(item)
    return done
