"""``dlkit release WEEK|all [--check]``: regenerate the student release, or check it for drift (and,
with ``all``, that the recorded reference values are current); ``dlkit release record [WEEK|all]``:
record the reference's values for the handout; ``dlkit release handout OUT``: build the handout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
        help="generate assignments/<week>/ from solutions/<week>/ (or check it with --check)",
        description="Generate the student release of a week from its reference: solution regions "
                    "cleared, planted code put in, notebooks through nbgrader's generate_assignment. "
                    "The result replaces assignments/<week>/ atomically; files there without a source "
                    "are removed and listed.",
    )
    parser.add_argument("week", help="week folder under solutions/ (week1, week2, ...), or 'all'; or 'record' "
                                     "(record the reference's values for the handout), or 'handout' (build it)")
    parser.add_argument("target", nargs="?", default=None,
                        help="after 'handout': the new folder to write the handout to; after 'record': the week "
                             "(default all)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 and list the files where assignments/ differs from a "
                             "fresh generation")
    parser.add_argument("--course", type=Path, default=None,
                        help="keep nbgrader's course directory here (source/<week>, release/<week>, "
                             "gradebook.db), e.g. build/course for grading with nbgrader; default: a "
                             "temporary one")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS_ROOT,
                        help=f"folder holding the reference weeks (default: {SOLUTIONS_ROOT})")
    parser.add_argument("--assignments", type=Path, default=ASSIGNMENTS_ROOT,
                        help=f"folder holding the student releases (default: {ASSIGNMENTS_ROOT})")
    parser.set_defaults(func=run)


def _count(files: list[str]) -> str:
    return f"{len(files)} file" + ("" if len(files) == 1 else "s")


def _weeks(args: argparse.Namespace) -> list[str]:
    available = weeks_in(args.solutions)
    if args.week == "all":
        return available
    if args.week not in available:
        raise ReleaseError(f"no week {args.week!r} under {args.solutions} (found: {', '.join(available) or 'none'})")
    return [args.week]


def _record(args: argparse.Namespace) -> int:
    from dlkit.release.record import record, stale

    weeks = weeks_in(args.solutions) if args.target in (None, "all") else [args.target]
    if args.check:
        lines = [line for week in weeks for line in stale(week)]
        for line in lines:
            print(line)
        print("recorded values: " + ("stale, run `dlkit release record`" if lines else "up to date"))
        return 1 if lines else 0
    return record(weeks)


def _handout(args: argparse.Namespace) -> int:
    from dlkit.release.handout import HandoutError, build_handout

    if args.target is None:
        print("dlkit release handout: give the folder to write, e.g. `dlkit release handout ../course-handout`",
              file=sys.stderr)
        return 2
    try:
        handout = build_handout(Path(args.target))
    except HandoutError as error:
        print(f"dlkit release handout: {error}", file=sys.stderr)
        return 1
    print(f"handout written to {handout.root}: {len(handout.files)} files, {handout.bytes / 1024:.0f} KiB "
          f"without data. Publish that folder (e.g. as the class's template repository); students run "
          f"`pip install -e .` and `pytest autograder -k week1` in it.")
    return 0


def run(args: argparse.Namespace) -> int:
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
        try:
            result = release_week(week, args.solutions, args.assignments, check=args.check, course=args.course)
        except (MarkerError, ReleaseError, NbgraderError) as error:
            print(f"{week}: FAILED, {args.assignments.name}/{week} left as it was\n  {error}", file=sys.stderr)
            status = 1
            continue
        if args.check:
            if result.differences:
                print(f"{week}: {args.assignments.name}/{week} differs from a fresh generation "
                      f"(run `dlkit release {week}`):")
                for difference in result.differences:
                    print(f"  {difference}")
                status = 1
            else:
                print(f"{week}: up to date ({_count(result.files)})")
        else:
            print(f"{week}: {args.assignments.name}/{week} regenerated ({_count(result.files)})")
            for removed in result.removed:
                print(f"  removed {removed} (no source in {args.solutions.name}/{week})")
    if args.week == "all" and Path(args.assignments).is_dir():
        orphans = sorted(p.name for p in Path(args.assignments).iterdir()
                         if p.is_dir() and not p.name.startswith(".") and p.name not in weeks)
        for orphan in orphans:
            print(f"{orphan}: {args.assignments.name}/{orphan} has no {args.solutions.name}/{orphan}; "
                  "remove it by hand if the week is gone")
            if args.check:
                status = 1
    if args.week == "all" and args.check:
        from dlkit.release.record import stale

        lines = [line for week in weeks for line in stale(week)]
        for line in lines:
            print(f"{line} (run `dlkit release record`)")
        status = status or (1 if lines else 0)
    return status
