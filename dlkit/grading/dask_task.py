"""What a Dask worker does with one submission of ``dlkit grade --executor dask``.

First, once per worker process and run settings, whether this worker can grade the week as the client
would: the same kit (:func:`kit_fingerprint`), the week's data under its data root, the sandbox asked
for, a GPU when the run is on CUDA. A worker that cannot replies ``{"unfit": kind, ...}`` and grades
nothing; the client stops the run on it (:mod:`.on_dask`). Then the submission: the client's copy
(a tar of ``sub/<week>/``) is unpacked into a private folder and graded by :func:`.isolate.grade_copy`,
exactly as a local job does, its grading process forked from this worker's warm pool
(:class:`.pool.GraderPool`, one per week, shared by the worker's threads). The reply is the
:class:`~.isolate.Graded` record, plots included as bytes: nothing is written on this machine but the
private folder, which is removed.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import hashlib
import io
import os
import tarfile
import threading
from pathlib import Path

from autograder import __version__
from autograder.i18n import to_data
from autograder.settings import KIT_ROOT
from autograder.spec import week_data
from dlkit.grading.dask_entry import worker_name
from dlkit.grading.grader import SandboxError
from dlkit.grading.isolate import (GradeOptions, Limits, detect_isolation, grade_copy, private_folder, remove_private,
                                   stale_private_folders)
from dlkit.grading.pool import GraderPool

STARTED_TOPIC = "dlkit-grade-started"
"""Dask event topic: ``{"run": ..., "student": ...}`` when a worker starts on a submission (the client's progress)."""

KIT_FILES = (("autograder", ("*.py", "*.toml", "*.json", "*.mo")), ("dlkit", ("*.py", "*.toml", "*.json")),
             ("solutions", ("*.py",)))
"""What decides a grade: the checks and their plugin, the spec, the reference and its recorded values."""

_lock = threading.Lock()
_fit: dict[tuple, dict] = {}
_pools: dict[str, GraderPool] = {}


@functools.lru_cache(maxsize=1)
def kit_fingerprint() -> str:
    """``<version>+<hash>``: the kit's version and a hash of every file that decides a grade, so two
    machines with the same version but different checks (an edited checkout) are told apart."""
    digest = hashlib.sha256()
    for folder, patterns in KIT_FILES:
        paths = sorted({path for pattern in patterns for path in (KIT_ROOT / folder).rglob(pattern)
                        if "__pycache__" not in path.parts})
        for path in paths:
            digest.update(str(path.relative_to(KIT_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{__version__}+{digest.hexdigest()[:12]}"


def pack(folder: Path) -> bytes:
    """``folder``'s files as a gzipped tar (names relative to it): how a copy travels to a worker."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(folder, arcname=".")
    return buffer.getvalue()


def unpack(data: bytes, folder: Path) -> None:
    """Unpack :func:`pack`'s bytes into ``folder`` (plain files and folders only)."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(folder, filter="data")
        else:  # Python before 3.10.12 / 3.11.4: the archive is the client's own copy, made by pack()
            archive.extractall(folder)


def options_to_data(options: GradeOptions) -> dict:
    """``options`` as plain data (a worker without the kit must still be able to read the ticket)."""
    return dataclasses.asdict(options)


def options_from_data(data: dict) -> GradeOptions:
    return GradeOptions(**{**data, "limits": Limits(**data["limits"]), "hidden": tuple(data["hidden"])})


def _unfit(kind: str, **details) -> dict:
    return {"unfit": kind, "worker": worker_name(), **details}


def _fitness(kit: str, options: GradeOptions) -> dict:
    """``{"isolation": ...}`` when this worker can grade under ``options``, else an ``unfit`` reply."""
    if kit_fingerprint() != kit:
        return _unfit("kit", worker_kit=kit_fingerprint(), client_kit=kit)
    from autograder.data import cifar10, data_root, mnist
    from autograder.data.errors import DataError

    root = data_root(options.data_root)
    readers = {"mnist": mnist.source_files, "cifar10": cifar10.source_files}
    for dataset in week_data(options.week):
        try:
            for train in (True, False):
                readers[dataset](root, train)
        except DataError as error:
            return _unfit("data", dataset=dataset, root=str(root), error=to_data(error.message))
    try:
        isolation = detect_isolation(options.isolation)
    except SandboxError as error:
        return _unfit("sandbox", error=to_data(error.message))
    if options.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            return _unfit("gpu")
    for folder in stale_private_folders():  # left by a worker of this machine that was killed mid-task
        remove_private(folder)
    return {"isolation": isolation}


def _pool(week: str) -> GraderPool:
    """This worker's warm pool for ``week`` (started on first use, ended with the worker)."""
    with _lock:
        if week not in _pools:
            _pools[week] = GraderPool(week)
            atexit.register(_pools[week].close)
        return _pools[week]


def _announce(run: str, student: str) -> None:
    try:
        from distributed import get_worker

        get_worker().log_event(STARTED_TOPIC, {"run": run, "student": student})
    except (ImportError, ValueError):  # not in a Dask worker (a test calling this directly)
        pass


def grade_ticket(ticket: dict) -> dict:
    """Grade one shipped submission. ``ticket``: ``run`` and ``student`` (for the progress), ``kit`` (the
    client's :func:`kit_fingerprint`), ``options`` (:func:`options_to_data`), ``archive`` (:func:`pack` of the
    copy's ``sub/``), ``pool`` (fork the grading process from a warm pool). Returns ``{"graded": Graded,
    "worker": address}`` or an ``unfit`` reply."""
    options = options_from_data(ticket["options"])
    key = (ticket["kit"], options.week, options.data_root, options.isolation, options.device)
    with _lock:
        fit = _fit.get(key)
    if fit is None:
        fit = _fitness(ticket["kit"], options)
        with _lock:
            _fit[key] = fit
    if "unfit" in fit:
        return fit
    _announce(ticket["run"], ticket["student"])
    # A nanny starts its worker with MALLOC_TRIM_THRESHOLD_=65536 (distributed.nanny.pre-spawn-environ): the
    # grading processes would inherit it, and it slows PyTorch's training on the CPU 1.3 to 2.2x (measured,
    # docs/benchmarks/dask_overhead.md). They get glibc's default, as in a local run.
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    options = dataclasses.replace(options, isolation=fit["isolation"])
    private = private_folder()
    try:
        unpack(ticket["archive"], private / "work" / "sub")
        graded = grade_copy(private, options, None, _pool(options.week) if ticket["pool"] else None)
    finally:
        remove_private(private)
    return {"graded": graded, "worker": worker_name()}
