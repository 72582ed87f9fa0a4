"""``dlkit grade --executor dask``: one Dask task per submission, on a cluster that already exists
(``--scheduler ADDRESS``) or on a ``LocalCluster`` started for the run.

The client (this process) does everything that touches the class and the output folder: it finds
the submissions, skips those already graded, copies each one (:func:`.run.copy_submission`) and ships
the copy as bytes; a worker grades it with the same sandbox and limits as a local job
(:mod:`.dask_task`) and sends back the :class:`~.isolate.Graded` record; the client writes the
student's folder and the gradebook. Workers need no shared filesystem, only the same kit and the
week's data. At most :meth:`Cluster.in_flight` copies are in the cluster at once, so a class of
thousands is never all in memory.

A worker that dies mid-task (killed, out of memory, its machine lost) is the scheduler's to handle:
it runs the task again on another worker, ``distributed.scheduler.allowed-failures`` times (the
``LocalCluster`` started here, and the recipes in docs/dask.md, set it to 1), then gives up with
``KilledWorker``; the student's row then says the worker was lost twice and the next run grades them
again. A worker that cannot grade like this client (another kit, no data, no sandbox, no GPU) stops
the run at its first task: every other student would fail the same way.
"""

from __future__ import annotations

import logging
import secrets
from concurrent.futures import CancelledError
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator

from autograder.i18n import Said, _, from_data, n_
from dlkit.grading import dask_entry
from dlkit.grading.dask_task import STARTED_TOPIC, kit_fingerprint, options_to_data, pack
from dlkit.grading.discover import Found
from dlkit.grading.isolate import GradeOptions, private_folder, remove_private
from dlkit.grading.outcome import CRASHED, StudentOutcome, not_run
from dlkit.grading.progress import Progress
from dlkit.grading.run import BatchError, BatchOptions, Week, copy_submission, outcome_of, write_student

CONNECT_TIMEOUT_S = 30
ALLOWED_FAILURES = 1
"""Runs of a task on a worker that died beyond the first, in the ``LocalCluster`` started here."""


class ClusterError(Said, RuntimeError):
    """A worker cannot grade as this client would (``message`` names it and the fix): the run stops."""


def unfit_message(reply: dict):
    """What a worker's ``unfit`` reply (:mod:`.dask_task`, :mod:`.dask_entry`) means, and what to do."""
    worker, kind = reply.get("worker", "?"), reply.get("unfit")
    if kind == "no_kit":
        return _("the Dask worker {worker} cannot import the kit ({error}; its Python is {python}): install dlkit "
                 "there from the same checkout as here (pip install -e '.[dask]') and start the worker again",
                 worker=worker, error=reply.get("error", ""), python=reply.get("python", "?"))
    if kind == "kit":
        return _("the Dask worker {worker} has another dlkit ({theirs}) than this client ({ours}), so its grades "
                 "would differ: install the same checkout on every worker and start them again",
                 worker=worker, theirs=reply.get("worker_kit", "?"), ours=reply.get("client_kit", "?"))
    if kind == "data":
        return _("the Dask worker {worker} has no {dataset} under {root}: {error} Give every worker the data: "
                 "start it with DLKIT_DATA set to a folder that holds it, or pass --data-root with a path valid on "
                 "every worker", worker=worker, dataset=reply.get("dataset", "?"), root=reply.get("root", "?"),
                 error=from_data(reply.get("error", "")))
    if kind == "sandbox":
        return _("the Dask worker {worker} cannot sandbox students' code: {error}", worker=worker,
                 error=from_data(reply.get("error", "")))
    if kind == "gpu":
        return _("the Dask worker {worker} offers a GPU resource but PyTorch sees no GPU there: start it without "
                 "--resources GPU=1, or fix its CUDA install", worker=worker)
    return _("the Dask worker {worker} cannot grade: {reason}", worker=worker, reason=str(kind))


def lost_message(times: int, worker: str):
    """A row's message when every worker that took the submission died while grading it."""
    if times == 2:
        return _("worker lost twice: both Dask workers that took this submission ended while grading it (the last "
                 "was {worker}); nothing of it was graded, and the next run grades it again", worker=worker)
    return n_("worker lost {n} time: the Dask worker that took this submission ended while grading it ({worker}); "
              "nothing of it was graded, and the next run grades it again",
              "worker lost {n} times: every Dask worker that took this submission ended while grading it (the "
              "last was {worker}); nothing of it was graded, and the next run grades it again", times, worker=worker)


def _allowed_failures(dask_scheduler) -> int:
    return int(dask_scheduler.allowed_failures)


@dataclass
class Cluster:
    """A connection to the cluster that grades this run (and the ``LocalCluster`` it started, if any)."""

    client: Any
    """The ``distributed.Client``."""
    local: Any
    """The ``LocalCluster`` started for this run, else ``None``."""
    address: str
    """The scheduler's address."""
    allowed_failures: int
    """How many times the scheduler runs a task again after its worker died."""

    @classmethod
    def connect(cls, scheduler: str | None, workers: int, device: str = "auto") -> Cluster:
        """Connect to ``scheduler`` (an address or a scheduler file), or start a ``LocalCluster`` of
        ``workers`` one-thread workers; :class:`~.run.BatchError` when Dask is missing or nothing answers."""
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise BatchError(_("--executor dask needs Dask's distributed package: pip install 'dlkit[dask]'")) \
                from None
        local = None
        try:
            if scheduler is None:
                import torch

                gpu = {"GPU": 1} if device != "cpu" and torch.cuda.is_available() else None
                with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
                    local = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                         dashboard_address=None, memory_limit=0, silence_logs=logging.ERROR,
                                         resources=gpu)
                client = Client(local)
            elif Path(scheduler).expanduser().is_file():
                client = Client(scheduler_file=str(Path(scheduler).expanduser()), timeout=CONNECT_TIMEOUT_S)
            else:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as error:
            if local is not None:
                local.close()
            raise BatchError(_("no Dask scheduler answered at {address} ({error}): start one (dask scheduler) and "
                               "give its address, e.g. tcp://host:8786, or its scheduler file",
                               address=scheduler or "LocalCluster", error=str(error))) from None
        return cls(client, local, client.scheduler.address,
                   client.run_on_scheduler(_allowed_failures))

    def workers(self) -> dict[str, dict]:
        """Address -> what the scheduler knows of each worker now (``nthreads``, ``resources`` ...)."""
        return self.client.scheduler_info(n_workers=-1)["workers"]

    def resolve(self, options: GradeOptions) -> GradeOptions:
        """``options`` with ``auto`` device and profile decided once for the whole class (cuda and full when
        a worker offers a GPU, else cpu and quick), so no student's grade depends on the worker it drew."""
        workers = self.workers()
        gpus = any(info.get("resources", {}).get("GPU") for info in workers.values())
        device = options.device if options.device != "auto" else ("cuda" if gpus else "cpu")
        if device == "cuda" and workers and not gpus:
            raise BatchError(_("--device cuda: no worker of the cluster offers a GPU; start GPU workers with "
                               "--resources GPU=1, or grade with --device cpu"))
        profile = options.profile if options.profile != "auto" else ("full" if device == "cuda" else "quick")
        return replace(options, device=device, profile=profile)

    def describe(self):
        """Where the run grades, for the batch's first line."""
        workers = self.workers()
        count = n_("{n} worker", "{n} workers", len(workers))
        where = (_("on a local Dask cluster ({workers})", workers=count) if self.local is not None else
                 _("on the Dask cluster at {address} ({workers} now)", address=self.address, workers=count))
        if self.allowed_failures != ALLOWED_FAILURES:
            where = _("{where}; its scheduler runs a task again {n} times after its worker dies "
                      "(distributed.scheduler.allowed-failures; docs/dask.md sets 1)", where=where,
                      n=self.allowed_failures)
        return where

    def in_flight(self) -> int:
        """Submissions shipped to the cluster at once: enough to keep every worker thread busy."""
        return max(2, 2 * sum(self.client.nthreads().values()))

    def close(self) -> None:
        self.client.close()
        if self.local is not None:
            self.local.close()

    def grade(self, todo: list[tuple[Found, str]], week: Week, options: BatchOptions, progress: Progress,
              temp_parent: str | None) -> Iterator[StudentOutcome]:
        """Grade ``todo`` on the cluster; yields each student's outcome once their folder is written (a
        submission that cannot be copied at once, without a task)."""
        import cloudpickle
        from distributed import KilledWorker, as_completed

        cloudpickle.register_pickle_by_value(dask_entry)
        run, kit, waiting = secrets.token_hex(6), kit_fingerprint(), iter(todo)
        resources = {"GPU": 1} if options.grade.device == "cuda" else None
        shipped: dict[str, tuple[Any, Found, str, Any]] = {}
        """Task key -> (its future, the student's entry, their fingerprint, their copy's record)."""
        done: set[str] = set()
        unsandboxed: set[str] = set()
        tasks = as_completed()

        def started(event) -> None:
            message = event[1] if isinstance(event, (tuple, list)) else event
            student = message.get("student")
            if message.get("run") == run and student not in done and student not in progress.running:
                progress.start(student)

        def ship() -> Iterator[StudentOutcome]:
            """Copy and submit the next students until enough are in flight; yields those not gradable."""
            while tasks.count() < self.in_flight():
                entry, source = next(waiting, (None, None))
                if entry is None:
                    return
                private = private_folder(temp_parent)
                try:
                    copy = copy_submission(entry, source, week, options, private)
                    archive = None if isinstance(copy, StudentOutcome) else pack(private / "work" / "sub")
                finally:
                    remove_private(private)
                if archive is None:
                    yield write_student(options.out, copy, week)
                    continue
                ticket = {"run": run, "student": entry.student, "kit": kit, "archive": archive,
                          "options": options_to_data(options.grade), "pool": options.pool}
                future = self.client.submit(dask_entry.grade_on_worker, ticket, pure=False, resources=resources,
                                            key=f"dlkit-grade-{week.name}-{entry.student}-{run}")
                shipped[future.key] = (future, entry, source, copy)
                tasks.add(future)

        self.client.subscribe_topic(STARTED_TOPIC, started)
        try:
            yield from ship()
            for future in tasks:
                _future, entry, source, copy = shipped.pop(future.key)
                graded = None
                try:
                    reply = future.result()
                except KilledWorker as error:
                    outcome = self._lost(entry, source, week, options, error)
                except (CancelledError, OSError) as error:  # the scheduler went away, or cancelled the task
                    raise ClusterError(_("lost the Dask scheduler at {address} while grading {student} ({error})",
                                         address=self.address, student=entry.student,
                                         error=str(error) or type(error).__name__)) from None
                else:
                    if "unfit" in reply:
                        raise ClusterError(unfit_message(reply))
                    graded = reply["graded"]
                    outcome = outcome_of(entry, source, week, copy, graded)
                    if graded.settings.get("isolation") == "process" and reply["worker"] not in unsandboxed:
                        unsandboxed.add(reply["worker"])
                        progress.note(str(_("warning: the Dask worker {worker} has no sandbox (it needs root and "
                                            "`unshare` on Linux): students' code runs there as the worker's user, "
                                            "with limits only; see docs/trust-boundary.md", worker=reply["worker"])))
                done.add(entry.student)
                yield write_student(options.out, outcome, week, graded)
                yield from ship()
        except BaseException:
            self.client.cancel([future for future, *_rest in shipped.values()])
            raise
        finally:
            self.client.unsubscribe_topic(STARTED_TOPIC)

    def _lost(self, entry: Found, source: str, week: Week, options: BatchOptions, error) -> StudentOutcome:
        last = getattr(error.last_worker, "address", error.last_worker)
        message = lost_message(int(error.allowed_failures) + 1, str(last))
        results = [not_run(week.name, exercise, check, points, visibility, message)
                   for exercise, check, points, visibility in week.declared]
        return StudentOutcome(entry.student, week.name, CRASHED, message, results, source_sha256=source,
                              settings=options.grade.record(), retry=True)
