"""``dlkit grade SUBMISSIONS --week WEEK --out DIR``: grade a whole class."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from autograder.i18n import _, n_, render
from dlkit.grading.discover import DiscoveryError
from dlkit.grading.isolate import (ISOLATIONS, GradeOptions, KitError, Limits, SandboxError, detect_isolation,
                                   unprivileged_without_namespaces)
from dlkit.grading.on_dask import ClusterError
from dlkit.grading.run import DASK, EXECUTORS, LOCAL, BatchError, BatchOptions, default_jobs, grade_class

DEFAULTS = Limits()


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if value <= 0:
            raise argparse.ArgumentTypeError(str(_("expected a positive number, got {value}", value=repr(text))))
        return value

    return parse


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def run_grade(args: argparse.Namespace) -> int:
    """Grade the class; exit status 0 when done (whatever the students scored), 2 on a usage error."""
    submissions, out = Path(args.submissions).resolve(), Path(args.out).resolve()
    if _inside(submissions, out) or _inside(out, submissions):
        print("dlkit grade: " + str(_("--out {out} and SUBMISSIONS {submissions} must not be inside one another",
                                      out=args.out, submissions=args.submissions)), file=sys.stderr)
        return 2
    if args.scheduler and args.executor != DASK:
        print("dlkit grade: " + str(_("--scheduler needs --executor dask")), file=sys.stderr)
        return 2
    try:  # on a cluster, each worker finds out what it can do (dlkit.grading.dask_task)
        isolation = detect_isolation(args.isolation) if args.executor == LOCAL else args.isolation
    except SandboxError as error:
        print(f"dlkit grade: {error}", file=sys.stderr)
        return 2
    if isolation == "process" and unprivileged_without_namespaces():
        print("dlkit grade: " + str(_(
            "no namespaces here (they need root and `unshare` on Linux): students' code runs as nobody, in its own "
            "process with limits; it can read whatever everyone may read on this machine (keep the reference "
            "solutions and the class to yourself, or grade in a container), see docs/trust-boundary.md")),
            file=sys.stderr)
    elif isolation == "process":
        print("dlkit grade: " + str(_(
            "no sandbox here (it needs root and `unshare` on Linux): students' code runs as you, in its own process "
            "with limits, and could read the reference solutions and the other submissions; grade as root on Linux "
            "(or in a container) to sandbox it, see docs/trust-boundary.md")), file=sys.stderr)
    limits = Limits(timeout_s=args.timeout, memory_mb=args.memory)
    grade = GradeOptions(args.week, device=args.device, profile=args.profile, threads=args.threads,
                         data_root=str(Path(args.data_root).expanduser().resolve()) if args.data_root else None,
                         limits=limits, isolation=isolation, plots=not args.no_plots,
                         hidden=(str(submissions), str(out)), check_timeout_s=args.check_timeout,
                         class_seed=args.class_seed, lang=getattr(args, "lang", None))
    jobs = args.jobs or default_jobs(args.threads, args.memory, args.device)
    options = BatchOptions(submissions, out, grade, jobs=jobs, regrade=args.regrade, pool=not args.no_pool,
                           executor=args.executor, scheduler=args.scheduler)
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops as cleanly as Ctrl-C
    try:
        jobs_text = n_("{n} job", "{n} jobs", jobs) if args.executor == LOCAL or not args.scheduler else \
            _("the cluster's workers")
        grade_class(options, announce=str(_(
            "grading {submissions} for {week}: {jobs}, {threads}, timeout {timeout:g} s, memory {memory} MB, "
            "isolation {isolation}", submissions=args.submissions, week=args.week,
            jobs=jobs_text, threads=n_("{n} thread each", "{n} threads each", args.threads),
            timeout=args.timeout, memory=args.memory, isolation=isolation)))
    except (BatchError, DiscoveryError) as error:
        print(f"dlkit grade: {render(getattr(error, 'message', error))}", file=sys.stderr)
        return 2
    except (SandboxError, KitError, ClusterError) as error:
        print("dlkit grade: " + str(_("stopped: {error}\nStudents finished so far are kept; fix this and run the "
                                      "same command again to go on.", error=error.message)), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ndlkit grade: " + str(_("interrupted; finished students are kept in {out}; run the same command "
                                        "again to go on.", out=args.out)), file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    feedback = str(out / "students" / "<student>" / "feedback.html")
    print(str(_("gradebook: {gradebook}\nsummary: {summary}\nfeedback: {feedback}", gradebook=str(out / "gradebook.csv"),
                summary=str(out / "summary.md"), feedback=feedback)))
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``grade`` on the ``dlkit`` parser's subparsers; its ``func(args)`` returns the exit status."""
    p = subparsers.add_parser(
        "grade", help=str(_("grade a whole class of submissions in sandboxed processes")),
        description=str(_("Grade every submission in SUBMISSIONS (one folder or .zip per student, or nbgrader's "
                          "submitted/<student>/<week>/) against the kit's own checks, each in its own sandboxed "
                          "process. Writes OUT/gradebook.csv, OUT/summary.md and OUT/students/<student>/ "
                          "(results.json, feedback). A rerun skips students already graded, so a killed run resumes.")),
    )
    p.add_argument("submissions", metavar="SUBMISSIONS", help=str(_("the class folder")))
    p.add_argument("--week", required=True, help=str(_("week to grade, e.g. week1")))
    p.add_argument("--out", required=True, metavar="DIR", help=str(_("output folder (created if needed)")))
    p.add_argument("--jobs", type=_positive(int), default=None, metavar="N",
                   help=str(_("submissions graded at once (default: cores / --threads, within available memory)")))
    p.add_argument("--threads", type=_positive(int), default=1, metavar="N",
                   help=str(_("PyTorch threads per submission (default 1; grades do not depend on --jobs)")))
    p.add_argument("--timeout", type=_positive(float), default=DEFAULTS.timeout_s, metavar="S",
                   help=str(_("wall-clock seconds per submission, all checks together (default {default:g})",
                              default=DEFAULTS.timeout_s)))
    p.add_argument("--check-timeout", type=_positive(float), default=None, metavar="S",
                   help=str(_("seconds one check may run, importing the student's file included (default: each "
                              "exercise's limit in exercises.toml); a file that loops at import costs this once")))
    p.add_argument("--memory", type=_positive(int), default=DEFAULTS.memory_mb, metavar="MB",
                   help=str(_("memory per submission beyond the kit's own (default {default})",
                              default=DEFAULTS.memory_mb)))
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help=str(_("where the checks run (default auto: cuda when PyTorch sees one, else cpu)")))
    p.add_argument("--profile", choices=("auto", "quick", "full"), default="auto",
                   help=str(_("training budget of the checks (default auto: quick on cpu, full on cuda)")))
    p.add_argument("--data-root", metavar="DIR", default=None,
                   help=str(_("data root for the checks (default: $DLKIT_DATA, else the kit's data_cache/)")))
    p.add_argument("--regrade", action="store_true",
                   help=str(_("grade again students whose results are complete")))
    p.add_argument("--isolation", choices=ISOLATIONS, default="auto",
                   help=str(_("namespaces (no network, read-only machine; needs root and unshare), process "
                              "(process group and resource limits only), or auto (default)")))
    p.add_argument("--no-plots", action="store_true",
                   help=str(_("skip the feedback plots (they train the student's model)")))
    p.add_argument("--no-pool", action="store_true",
                   help=str(_("start each submission's grading process afresh instead of forking it from a warm "
                              "pool (slower; the grades are the same)")))
    p.add_argument("--executor", choices=EXECUTORS, default=LOCAL,
                   help=str(_("local (default: this machine, --jobs at a time) or dask (one task per submission on "
                              "a Dask cluster; needs pip install 'dlkit[dask]', see docs/dask.md)")))
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help=str(_("with --executor dask: the scheduler's address (tcp://host:8786) or its scheduler "
                              "file; without it, a local cluster of --jobs workers is started")))
    p.add_argument("--class-seed", type=int, default=None, metavar="N",
                   help=str(_("seed of every check's inputs for this class (default: the one OUT/provenance.json "
                              "records, else a random one); the same seed regrades bit for bit")))
    p.set_defaults(func=run_grade)
    return p
