"""Grading a whole class: in parallel, resumable, and nobody lost.

For each student: copy the week's files to a private folder, grade the copy in
the sandbox (:func:`.isolate.grade_copy`), then write the student's folder
``<out>/students/<student>/`` (``output.log``, plots, ``feedback.md`` and
``feedback.html``, and ``results.json`` last) beside it and swap it in (the old
folder renamed aside first, so a reader sees one or the other). A student whose folder holds a complete ``results.json`` for this
week, these checks and this very submission is skipped on the next run (unless
``regrade``), so a killed run picks up where it stopped. ``gradebook.csv`` is
rewritten after every student; the summary at the end.

Grades do not depend on the number of jobs: each child gets the same threads,
seeds come from check names, and rows are sorted by student.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import secrets
import shutil
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, TextIO

from dlkit.grading import outcome as outcome_file
from dlkit.grading.discover import Copy, CopyLimits, Found, InvalidSubmission, find_submissions, fingerprint, materialize
from dlkit.grading.feedback import write_feedback
from autograder.files import write_text_atomically
from dlkit.grading.gradebook import write_gradebook
from dlkit.grading.isolate import (GradeOptions, Graded, Stopped, declared_checks, grade_copy, memory_cap_mb,
                                   private_folder, remove_private, stale_private_folders)
from dlkit.grading.outcome import INVALID_SUBMISSION, StudentOutcome, not_run
from dlkit.grading.pool import GraderPool
from dlkit.grading.progress import Progress
from dlkit.grading.summary import write_summary
from dlkit.release.generate import install
from autograder.i18n import Said, _, current_language, in_turn
from autograder.results import shared_causes
from autograder.settings import KIT_ROOT
from autograder.spec import load_spec


LOCAL, DASK = "local", "dask"
EXECUTORS = (LOCAL, DASK)


class BatchError(Said, ValueError):
    """The batch cannot start: ``message`` (an :mod:`autograder.i18n` message) says what to change."""


@dataclass(frozen=True)
class BatchOptions:
    """One ``dlkit grade`` run."""

    submissions: Path
    """The class folder."""
    out: Path
    """Output folder (``gradebook.csv``, ``summary.*``, ``students/``)."""
    grade: GradeOptions
    """How each submission is graded."""
    jobs: int = 1
    """Submissions graded at once."""
    regrade: bool = False
    """Grade again students whose results are already complete."""
    copy_limits: CopyLimits = CopyLimits()
    """Caps on what a submission may bring in."""
    pool: bool = True
    """Fork each submission's grading process from a warm pool server (:mod:`.pool`) instead of starting it afresh."""
    executor: str = "local"
    """``local`` (this machine, ``jobs`` at a time) or ``dask`` (one task per submission on a Dask cluster,
    :mod:`.on_dask`)."""
    scheduler: str | None = None
    """With ``executor="dask"``: the scheduler's address or scheduler file (``None``: start a ``LocalCluster``
    of ``jobs`` workers)."""


@dataclass(frozen=True)
class Week:
    """What the spec says about the week being graded."""

    name: str
    """Week folder, e.g. ``"week1"``."""
    files: list[str]
    """The week's declared student files, e.g. ``["tensor_ops.py", "spiral.py"]``."""
    other_weeks: list[str]
    """The other declared weeks (their folders are never taken for this one)."""
    titles: dict[str, str]
    """Exercise -> title."""
    declared: list[tuple[str, str, float, str]]
    """(exercise, check, points, visibility) in declaration order."""


def load_week(week: str) -> Week:
    """The week's files and checks; :class:`BatchError` for an unknown week or one without checks yet."""
    spec = load_spec()
    if week not in spec:
        raise BatchError(_("unknown week {week}; exercises.toml declares: {weeks}", week=repr(week),
                           weeks=", ".join(spec) or "-"))
    checks = sorted((KIT_ROOT / "autograder" / week).glob("test_*.py"))
    declared = declared_checks(week)
    if not checks or not declared:
        raise BatchError(_("{week} has no checks yet (autograder/{week}/test_*.py with points in exercises.toml)",
                           week=week))
    exercises = spec[week]
    return Week(week, [e.file for e in exercises.values()], [w for w in spec if w != week],
                {name: e.title for name, e in exercises.items()}, declared)


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def default_jobs(threads: int, memory_mb: int, device: str = "cpu") -> int:
    """Jobs the machine can bear: cores / threads per job, and no more than available memory / memory per job."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    jobs = max(1, cores // max(1, threads))
    available = _meminfo_available()
    if available:
        jobs = min(jobs, max(1, available // (memory_cap_mb(memory_mb, device) * 1024 * 1024)))
    return jobs


PROVENANCE_FILE = "provenance.json"
"""Beside ``gradebook.csv``: the class seed and what graded the class, so a regrade can be repeated."""


def class_seed(out: Path, requested: int | None) -> int:
    """The class seed: ``requested``, else the one a previous run on ``out`` recorded, else a fresh random one."""
    if requested is not None:
        return requested
    try:
        stored = json.loads((Path(out) / PROVENANCE_FILE).read_text(encoding="utf-8")).get("class_seed")
    except (OSError, ValueError, AttributeError):
        stored = None
    return stored if isinstance(stored, int) and stored >= 0 else secrets.randbelow(2**31)


def _write_provenance(out: Path, options: GradeOptions) -> None:
    import torch

    from autograder import __version__

    record = {"week": options.week, "class_seed": options.class_seed, "language": current_language(),
              "kit_version": __version__,
              "torch_version": torch.__version__, "settings": options.record(),
              "reproduce": f"dlkit grade ... --week {options.week} --class-seed {options.class_seed} --regrade"}
    write_text_atomically(json.dumps(record, indent=2) + "\n", Path(out) / PROVENANCE_FILE)


def existing_needs_grading(existing: StudentOutcome | None, week: Week, source: str, seed: int | None = None) -> bool:
    """Whether a stored outcome leaves the student to grade (again): it is missing, for another week, checks,
    submission or class seed, or the grading machinery failed it (:attr:`~.outcome.StudentOutcome.retry`)."""
    if existing is None or existing.week != week.name or existing.source_sha256 != source or existing.retry:
        return True
    if existing.provenance.get("class_seed") != seed:
        return True
    return [(r.exercise, r.check, r.max_score) for r in existing.results] != \
        [(exercise, check, points) for exercise, check, points, _visibility in week.declared]


def _invalid(found: Found, week: Week, source: str, message, options: GradeOptions) -> StudentOutcome:
    results = [not_run(week.name, exercise, check, points, visibility, _("not graded: {reason}", reason=message))
               for exercise, check, points, visibility in week.declared]
    return StudentOutcome(found.student, week.name, INVALID_SUBMISSION, message, results, source_sha256=source,
                          missing_files=list(week.files), settings=options.record())


def _write_plots(plots: dict[str, tuple[bytes, object]], folder: Path) -> dict[str, object]:
    """Save the graded plots beside ``results.json``; returns name -> caption."""
    for name, (data, _caption) in plots.items():
        (folder / name).write_bytes(data)
    return {name: caption for name, (_data, caption) in plots.items()}


def _message(*parts):
    """The row's message: its non-empty parts, ``"; "`` between them."""
    return in_turn(parts)


def outcome_of(found: Found, source: str, week: Week, copy: Copy, graded: Graded) -> StudentOutcome:
    """The student's row from their copy and how it was graded (here or on another machine)."""
    missing = ""
    if copy.missing:
        missing = (_("none of {week}'s files were found (expected {files})", week=week.name,
                     files=", ".join(week.files))
                   if len(copy.missing) == len(week.files) else
                   _("missing {files}", files=", ".join(copy.missing)))
    causes = shared_causes([r for r in graded.results if r.cause.removeprefix("module ") not in copy.missing])
    return StudentOutcome(found.student, week.name, graded.status,
                          _message(graded.message, *causes, missing, *copy.notes), graded.results,
                          provenance=graded.provenance, source_sha256=source, missing_files=copy.missing,
                          seconds=round(graded.seconds, 2), attempts=graded.attempts, settings=graded.settings)


def copy_submission(found: Found, source: str, week: Week, options: BatchOptions, private: Path) -> Copy | StudentOutcome:
    """Copy ``found``'s week into ``private/work/sub``: the copy, or the row of a submission that cannot be graded."""
    try:
        return materialize(found, week.name, week.files, week.other_weeks, private / "work" / "sub",
                           options.copy_limits)
    except InvalidSubmission as error:
        return _invalid(found, week, source, getattr(error, "message", str(error)), options.grade)


def write_student(out: Path, outcome: StudentOutcome, week: Week, graded: Graded | None = None) -> StudentOutcome:
    """Write ``<out>/students/<student>/`` (the log and plots of ``graded``, the feedback, ``results.json`` last)
    beside the old one and swap it in."""
    students = Path(out) / "students"
    staging = students / f".{outcome.student}.staging"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    if graded is not None:
        write_text_atomically(graded.log, staging / "output.log")
        outcome.plots = _write_plots(graded.plots, staging)
    write_feedback(outcome, staging, week.titles)
    outcome_file.write(outcome, staging / "results.json")
    install(staging, students / outcome.student)  # the old folder or the new one, never half of one
    return outcome


def grade_student(found: Found, source: str, week: Week, options: BatchOptions, stop: threading.Event,
                  temp_parent: str | None = None, pool=None) -> StudentOutcome:
    """Grade one student here and write their folder under ``<out>/students/``."""
    private = private_folder(temp_parent)
    graded = None
    try:
        copy = copy_submission(found, source, week, options, private)
        if isinstance(copy, StudentOutcome):
            outcome = copy
        else:
            graded = grade_copy(private, options.grade, stop, pool)
            outcome = outcome_of(found, source, week, copy, graded)
    finally:
        remove_private(private)
    return write_student(options.out, outcome, week, graded)


def rerender(outcome: StudentOutcome, folder: Path, week: Week) -> None:
    """Write an already graded student's ``results.json`` texts and feedback again in the current language,
    from the messages it stored as data: scores, statuses and plots stay as they are."""
    write_feedback(outcome, folder, week.titles)
    outcome_file.write(outcome, folder / "results.json")


def grade_class(options: BatchOptions, stream: TextIO | None = None, temp_parent: str | None = None,
                stop: threading.Event | None = None, announce: str = "") -> list[StudentOutcome]:
    """Grade every submission in ``options.submissions``; returns every student's outcome, sorted by id.

    ``announce`` is printed to ``stream`` once the week and the class folder are known to be usable.

    Raises :class:`BatchError` (bad week, no usable cluster), :class:`~.discover.DiscoveryError` (bad class
    folder), or the :class:`~.isolate.SandboxError` / :class:`~.isolate.KitError` /
    :class:`~.on_dask.ClusterError` that stopped the batch; on ``KeyboardInterrupt`` the running children
    are killed (the tasks on a cluster cancelled) and what was finished is kept.
    """
    week = load_week(options.grade.week)
    for folder in stale_private_folders(temp_parent):  # left by a run that was killed outright
        remove_private(folder)
    found = find_submissions(options.submissions, week.name, week.files)
    out = Path(options.out)
    (out / "students").mkdir(parents=True, exist_ok=True)
    options = dataclasses.replace(options, grade=dataclasses.replace(
        options.grade, class_seed=class_seed(out, options.grade.class_seed)))
    outcomes: dict[str, StudentOutcome] = {}
    todo = []
    for entry in found:
        try:
            source = fingerprint(entry, week.name, week.files, week.other_weeks, options.copy_limits)
        except OSError as error:
            source = f"unreadable: {error}"
        existing = outcome_file.read(out / "students" / entry.student / "results.json")
        if not options.regrade and not existing_needs_grading(existing, week, source, options.grade.class_seed):
            if existing.language != current_language():
                rerender(existing, out / "students" / entry.student, week)
            outcomes[entry.student] = existing
        else:
            todo.append((entry, source))
    with contextlib.ExitStack() as cleanup:
        cluster = None
        if options.executor == DASK and todo:
            from dlkit.grading.on_dask import Cluster

            cluster = Cluster.connect(options.scheduler, options.jobs, options.grade.device)
            cleanup.callback(cluster.close)
            options = dataclasses.replace(options, grade=cluster.resolve(options.grade))
            if announce:
                announce = str(_("{announce}; {cluster}", announce=announce, cluster=cluster.describe()))
        _write_provenance(out, options.grade)
        if announce:
            announce = str(_("{announce}, class seed {seed}", announce=announce, seed=options.grade.class_seed))
        progress = Progress(len(found), already=len(outcomes), stream=stream, header=announce)
        graded = (cluster.grade(todo, week, options, progress, temp_parent) if cluster is not None else
                  _grade_here(todo, week, options, progress, stop or threading.Event(), temp_parent))
        exercises = list(week.titles)
        with contextlib.closing(graded):
            for result in graded:
                outcomes[result.student] = result
                progress.finish(result)
                write_gradebook(list(outcomes.values()), exercises, out / "gradebook.csv")
    everyone = sorted(outcomes.values(), key=lambda o: o.student)
    write_gradebook(everyone, exercises, out / "gradebook.csv")
    write_summary(everyone, out)
    progress.close(everyone)
    return everyone


def _grade_here(todo: list[tuple[Found, str]], week: Week, options: BatchOptions, progress: Progress,
                stop: threading.Event, temp_parent: str | None) -> Iterator[StudentOutcome]:
    """Grade ``todo`` on this machine, ``options.jobs`` at a time; yields each student's outcome once written."""
    graders = GraderPool(week.name) if options.pool and todo else None

    def job(entry: Found, source: str) -> StudentOutcome:
        if stop.is_set():
            raise Stopped()
        progress.start(entry.student)
        return grade_student(entry, source, week, options, stop, temp_parent, graders)

    pool = ThreadPoolExecutor(max_workers=max(1, options.jobs), thread_name_prefix="dlkit-grade")
    pending = {pool.submit(job, entry, source) for entry, source in todo}
    try:
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()  # a SandboxError or KitError stops the batch here
    except BaseException:
        stop.set()
        for future in pending:
            future.cancel()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if graders is not None:
            graders.close()
