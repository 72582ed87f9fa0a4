"""Fetch MNIST and CIFAR-10 from the internet, for users who are online.

Everything is written to a temporary file first and moved into place only
when it is complete and its MD5 matches, so an interrupted download never
leaves a file that looks finished. Only `urllib` is used.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from autograder.i18n import _, join

from . import cifar10, mnist
from .errors import DataError
from .root import data_root

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
DATASETS = ("mnist", "cifar10")
TIMEOUT_S = 30
CHUNK = 1 << 16


class _Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int | None, enabled: bool) -> None:
        self.label, self.total, self.enabled, self.done = label, total, enabled, 0

    def update(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        mb = self.done / 1e6
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * 30)
            line = f"\r{self.label} [{bar:<30}] {frac:4.0%} {mb:6.1f}/{self.total / 1e6:.1f} MB"
        else:
            line = f"\r{self.label} {mb:6.1f} MB"
        sys.stderr.write(line)
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


@contextmanager
def _temp_file(folder: Path, name: str) -> Iterator[tuple[Path, BinaryIO]]:
    """A temporary file in `folder`, removed on the way out unless it was moved."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    path = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as f:
            yield path, f
    finally:
        path.unlink(missing_ok=True)


def _stream(url: str, out: BinaryIO, label: str, progress: bool) -> str:
    """Copy `url` into `out`; return the MD5 hex digest of what was read.

    Raises OSError (including urllib's errors) or http.client.HTTPException
    when the transfer fails or ends early.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "dlkit"})
    md5 = hashlib.md5(usedforsecurity=False)
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        bar = _Progress(label, total, progress)
        try:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                md5.update(chunk)
                bar.update(len(chunk))
        finally:
            bar.close()
    if total is not None and bar.done != total:
        raise OSError(_("the transfer ended after {done} of {total} bytes", done=bar.done, total=total))
    return md5.hexdigest()


def fetch(urls: list[str], dest: Path, md5: str, progress: bool = True,
          dataset: str = "mnist", by_hand=None) -> str:
    """Download the first of `urls` that works to `dest`, checking its MD5.

    Tries each URL in turn; `dest` appears only once a complete file with the
    right MD5 is in hand. Returns the URL that worked.
    Raises DataError listing every URL tried and why it failed, suggesting
    `dlkit data download <dataset> --mirror URL` and `by_hand` (default:
    copy the file into `dest`'s folder).
    """
    failures = []
    for url in urls:
        with _temp_file(dest.parent, dest.name) as (tmp, out):
            try:
                got = _stream(url, out, dest.name, progress)
                out.close()
            except (OSError, ValueError, http.client.HTTPException) as e:
                failures.append(f"  {url}: {_reason(e)}")  # what urllib or the system said, as it said it
                continue
            if got != md5:
                failures.append(_("  {url}: MD5 is {got}, expected {md5} (wrong or damaged file)", url=url, got=got,
                                  md5=md5))
                continue
            os.replace(tmp, dest)
            return url
    manual = by_hand or _("copy {file} by hand into {folder}", file=dest.name, folder=str(dest.parent))
    raise DataError(_(
        "Could not download {file}. Tried:\n{failures}\n"
        "Check your internet connection; or try a mirror you trust with "
        "`dlkit data download {dataset} --mirror URL` (URL: a folder that serves {file}); or {manual}.",
        file=dest.name, failures=join(failures, "\n"), dataset=dataset, manual=manual))


def _reason(e: BaseException) -> str:
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        return f"{e.reason}"
    return f"{type(e).__name__}: {e}"


def _mirror_urls(name: str, mirror: str | None, defaults: tuple[str, ...]) -> list[str]:
    bases = ([mirror] if mirror else []) + list(defaults)
    return [base.rstrip("/") + "/" + name for base in bases]


def _gunzip(src: Path, dest: Path) -> None:
    """Decompress `src` into `dest`, atomically."""
    with _temp_file(dest.parent, dest.name) as (tmp, out):
        try:
            with gzip.open(src, "rb") as f:
                shutil.copyfileobj(f, out)
        except (OSError, EOFError) as e:
            raise DataError(_("{file} does not decompress ({error}); delete it and try again.", file=str(src),
                              error=str(e))) from e
        out.close()
        os.replace(tmp, dest)


def _present(load: Callable[[Path, bool], object], root: Path, train: bool) -> bool:
    try:
        load(root, train)
        return True
    except DataError:
        return False


def download_mnist(root: Path, mirror: str | None = None, progress: bool = True,
                   force: bool = False) -> None:
    """Download MNIST into `<root>/MNIST/raw`: the four `.gz` files and their decompressed copies.

    A split whose files already read cleanly is skipped unless `force`.
    Raises DataError when a file cannot be fetched from any mirror.
    """
    folder = mnist.mnist_folder(root)
    for train in (True, False):
        if not force and _present(mnist.load_mnist, root, train):
            continue
        for stem in mnist.file_stems(train):
            gz = folder / f"{stem}.gz"
            fetch(_mirror_urls(gz.name, mirror, MNIST_MIRRORS), gz, MNIST_MD5[gz.name], progress)
            _gunzip(gz, folder / stem)


def _safe_members(archive: tarfile.TarFile, archive_path: Path) -> Iterator[tarfile.TarInfo]:
    """The regular files under `cifar-10-batches-py/`, read in one pass.

    Links, folders and other entries are skipped; a path that is absolute or
    climbs out with `..` stops the extraction.
    """
    for member in archive:
        parts = Path(member.name).parts
        if member.name.startswith("/") or ".." in parts:
            raise DataError(_(
                "{archive} holds an unsafe path {member}; refusing to extract it. "
                "The archive is not the official CIFAR-10 one.", archive=str(archive_path), member=repr(member.name)))
        if member.isfile() and len(parts) == 2 and parts[0] == cifar10.FOLDER:
            yield member


def extract_cifar10(archive_path: Path, root: Path) -> None:
    """Extract the batches of a CIFAR-10 archive into `<root>/cifar-10-batches-py`.

    Only regular files directly under `cifar-10-batches-py/` are taken; each
    one is written to a temporary file and moved into place.
    Raises DataError when the archive is unreadable or holds an unsafe path.
    """
    target = cifar10.cifar_folder(root)
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            for member in _safe_members(archive, archive_path):
                source = archive.extractfile(member)
                if source is None:
                    continue
                dest = target / Path(member.name).relative_to(cifar10.FOLDER)
                with _temp_file(dest.parent, dest.name) as (tmp, out):
                    shutil.copyfileobj(source, out)
                    out.close()
                    os.replace(tmp, dest)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise DataError(_("{archive} cannot be extracted ({error}); delete it and try again.",
                          archive=str(archive_path), error=str(e))) from e


def download_cifar10(root: Path, mirror: str | None = None, progress: bool = True,
                     force: bool = False) -> None:
    """Download and extract CIFAR-10 into `<root>/cifar-10-batches-py`.

    Skipped when both splits already read cleanly, unless `force`.
    The archive (about 170 MB) is checked against its MD5 and deleted after
    extraction.
    Raises DataError when it cannot be fetched or extracted.
    """
    if not force and all(_present(cifar10.load_cifar10, root, t) for t in (True, False)):
        return
    urls = _mirror_urls(CIFAR10_ARCHIVE, mirror, ()) + [CIFAR10_URL]
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".dlkit-download-") as tmp:
        archive = Path(tmp) / CIFAR10_ARCHIVE
        by_hand = _("fetch {url} some other way and unpack it into {root} (it holds {folder}/)",
                    url=CIFAR10_URL, root=str(root), folder=cifar10.FOLDER)
        fetch(urls, archive, CIFAR10_MD5, progress, dataset="cifar10", by_hand=by_hand)
        extract_cifar10(archive, root)


def download(dataset: str, root: str | Path | None = None, mirror: str | None = None,
             progress: bool = True, force: bool = False) -> Path:
    """Download `dataset` (`mnist`, `cifar10` or `all`) into the data root.

    `root` is resolved by `data_root`. `mirror` is a base URL tried first,
    holding the files under their usual names (`train-images-idx3-ubyte.gz`
    and so on, `cifar-10-python.tar.gz`). Returns the data root.
    Raises DataError for an unknown name or when a download fails.
    """
    names = DATASETS if dataset == "all" else (dataset,)
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        raise DataError(_("Unknown data set {dataset}; choose one of {names} or 'all'.", dataset=repr(dataset),
                          names=", ".join(DATASETS)))
    resolved = data_root(root)
    for name in names:
        if name == "mnist":
            download_mnist(resolved, mirror, progress, force)
        else:
            download_cifar10(resolved, mirror, progress, force)
    return resolved

