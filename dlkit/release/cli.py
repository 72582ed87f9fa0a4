"""``dlkit release WEEK|all [--check]``: regenerate the student release, or check it for drift (and,
with ``all``, that the recorded reference values are current); ``dlkit release record [WEEK|all]``:
record the reference's values for the handout; ``dlkit release handout OUT``: build the handout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.i18n import _, n_
from dlkit.release.generate import (
    ASSIGNMENTS_ROOT,
    SOLUTIONS_ROOT,
    ReleaseError,
    release_week,
    weeks_in,
)
from dlkit.release.markers import MarkerError
from dlkit.release.notebooks import NbgraderError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "release",
        help=str(_("generate assignments/<week>/ from solutions/<week>/ (or check it with --check)")),
        description=str(_("Generate the student release of a week from its reference: solution regions "
                          "cleared, planted code put in, notebooks through nbgrader's generate_assignment. "
                          "The result replaces assignments/<week>/ atomically; files there without a source "
                          "are removed and listed.")),
    )
    parser.add_argument("week", help=str(_("week folder under solutions/ (week1, week2, ...), or 'all'; or 'record' "
                                           "(record the reference's values for the handout), 'handout' (build "
                                           "it) or 'gradescope' (the autograder zip)")))
    parser.add_argument("target", nargs="?", default=None,
                        help=str(_("after 'handout': the new folder to write the handout to; after 'record': the "
                                   "week (default all); after 'gradescope': the zip to write")))
    parser.add_argument("--check", action="store_true",
                        help=str(_("write nothing; exit 1 and list the files where assignments/ differs from a "
                                   "fresh generation")))
    parser.add_argument("--course", type=Path, default=None,
                        help=str(_("keep nbgrader's course directory here (source/<week>, release/<week>, "
                                   "gradebook.db), e.g. build/course for grading with nbgrader; default: a "
                                   "temporary one")))
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS_ROOT,
                        help=str(_("folder holding the reference weeks (default: {default})",
                                   default=str(SOLUTIONS_ROOT))))
    parser.add_argument("--assignments", type=Path, default=ASSIGNMENTS_ROOT,
                        help=str(_("folder holding the student releases (default: {default})",
                                   default=str(ASSIGNMENTS_ROOT))))
    gradescope = parser.add_argument_group(str(_("dlkit release gradescope OUT.zip --week WEEK: the autograder zip "
                                                 "for Gradescope (docs/gradescope.md)")))
    gradescope.add_argument("--week", dest="gradescope_week", metavar="WEEK", default=None,
                            help=str(_("the week the zip grades")))
    gradescope.add_argument("--torch", choices=("cpu", "cuda"), default="cpu",
                            help=str(_("the PyTorch build setup.sh installs (default cpu)")))
    gradescope.add_argument("--data", choices=("download", "include"), default="download",
                            help=str(_("the week's data: setup.sh downloads it (default), or the zip carries it")))
    gradescope.add_argument("--mirror", metavar="URL", default=None,
                            help=str(_("base URL setup.sh tries first for the data (see dlkit data download)")))
    gradescope.add_argument("--data-root", metavar="DIR", default=None,
                            help=str(_("with --data include: where the data is (default: $DLKIT_DATA, else the "
                                       "kit's data_cache/)")))
    gradescope.add_argument("--isolation", choices=("auto", "namespaces", "process"), default="auto",
                            help=str(_("the sandbox run_autograder asks for (default auto: namespaces where the "
                                       "container allows them, else a worker as nobody)")))
    gradescope.add_argument("--class-seed", type=int, default=None, metavar="N",
                            help=str(_("seed of every check's inputs for the course (default: a random one, "
                                       "kept in the zip, out of students' reach)")))
    parser.set_defaults(func=run)


def _count(files: list[str]):
    return n_("{n} file", "{n} files", len(files))


def _difference(difference):
    """A :class:`~.generate.Difference` as ``--check`` lists it."""
    if difference.kind == "differs":
        return _("{path} (differs)", path=difference.path)
    if difference.kind == "missing":
        return _("{path} (missing)", path=difference.path)
    if difference.kind == "extra":
        return _("{path} (extra)", path=difference.path)
    return str(difference)


def _weeks(args: argparse.Namespace) -> list[str]:
    available = weeks_in(args.solutions)
    if args.week == "all":
        return available
    if args.week not in available:
        raise ReleaseError(_("no week {week} under {folder} (found: {found})", week=repr(args.week),
                             folder=str(args.solutions), found=", ".join(available) or _("none")))
    return [args.week]


def _record(args: argparse.Namespace) -> int:
    from dlkit.release.record import record, stale

    weeks = weeks_in(args.solutions) if args.target in (None, "all") else [args.target]
    if args.check:
        lines = [line for week in weeks for line in stale(week)]
        for line in lines:
            print(line)
        print(_("recorded values: stale, run `dlkit release record`") if lines else _("recorded values: up to date"))
        return 1 if lines else 0
    return record(weeks)


def _handout(args: argparse.Namespace) -> int:
    from dlkit.release.handout import HandoutError, build_handout

    if args.target is None:
        print("dlkit release handout: " + str(_("give the folder to write, e.g. `dlkit release handout "
                                                "../course-handout`")), file=sys.stderr)
        return 2
    try:
        handout = build_handout(Path(args.target))
    except HandoutError as error:
        print(f"dlkit release handout: {error}", file=sys.stderr)
        return 1
    print(_("handout written to {root}: {files}, {kib:.0f} KiB without data. Publish that folder (e.g. as the "
            "class's template repository); students run `pip install -e .` and `pytest autograder -k week1` in it.",
            root=str(handout.root), files=n_("{n} file", "{n} files", len(handout.files)), kib=handout.bytes / 1024))
    return 0


def _gradescope(args: argparse.Namespace) -> int:
    from dlkit.release.gradescope import GradescopeError, GradescopeOptions, build_gradescope_zip

    if args.target is None or args.gradescope_week is None:
        print("dlkit release gradescope: " + str(_("give the zip to write and the week, e.g. `dlkit release "
                                                   "gradescope week1-autograder.zip --week week1`")), file=sys.stderr)
        return 2
    options = GradescopeOptions(args.gradescope_week, torch=args.torch, data=args.data, mirror=args.mirror,
                                data_root=args.data_root, isolation=args.isolation, class_seed=args.class_seed)
    try:
        names = build_gradescope_zip(Path(args.target), options)
    except GradescopeError as error:
        print(f"dlkit release gradescope: {error}", file=sys.stderr)
        return 1
    print(_("{zip} written: {files}, {mib:.1f} MiB. Upload it in Gradescope's autograder settings (Zip file "
            "upload); docs/gradescope.md says what it does.", zip=args.target, files=n_("{n} file", "{n} files",
                                                                                       len(names)),
            mib=Path(args.target).stat().st_size / 2**20))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.week == "gradescope":
        return _gradescope(args)
    if args.week == "handout":
        return _handout(args)
    if args.week == "record":
        return _record(args)
    try:
        weeks = _weeks(args)
    except ReleaseError as error:
        print(f"dlkit release: {error}", file=sys.stderr)
        return 2
    status = 0
    for week in weeks:
        folder, source = f"{args.assignments.name}/{week}", f"{args.solutions.name}/{week}"
        try:
            result = release_week(week, args.solutions, args.assignments, check=args.check, course=args.course)
        except (MarkerError, ReleaseError, NbgraderError) as error:
            print(_("{week}: FAILED, {folder} left as it was\n  {error}", week=week, folder=folder, error=str(error)),
                  file=sys.stderr)
            status = 1
            continue
        if args.check:
            if result.differences:
                print(_("{week}: {folder} differs from a fresh generation (run `dlkit release {week}`):", week=week,
                        folder=folder))
                for difference in result.differences:
                    print(f"  {_difference(difference)}")
                status = 1
            else:
                print(_("{week}: up to date ({files})", week=week, files=_count(result.files)))
        else:
            print(_("{week}: {folder} regenerated ({files})", week=week, folder=folder, files=_count(result.files)))
            for removed in result.removed:
                print("  " + str(_("removed {file} (no source in {folder})", file=removed, folder=source)))
    if args.week == "all" and Path(args.assignments).is_dir():
        orphans = sorted(p.name for p in Path(args.assignments).iterdir()
                         if p.is_dir() and not p.name.startswith(".") and p.name not in weeks)
        for orphan in orphans:
            folder, source = f"{args.assignments.name}/{orphan}", f"{args.solutions.name}/{orphan}"
            print(_("{week}: {folder} has no {source}; remove it by hand if the week is gone", week=orphan,
                    folder=folder, source=source))
            if args.check:
                status = 1
    if args.week == "all" and args.check:
        from dlkit.release.record import stale

        lines = [line for week in weeks for line in stale(week)]
        for line in lines:
            print(_("{line} (run `dlkit release record`)", line=line))
        status = status or (1 if lines else 0)
    return status
