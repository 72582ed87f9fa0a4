"""How fast ``dlkit grade`` gets through a class, and what each submission costs beyond its checks.

For each week with checks (or ``--weeks``), every repeat measures, in turn so
that load on the machine hits them alike:

- the pieces of the fixed cost per submission: starting Python, importing
  PyTorch, importing pytest and the kit, entering the namespaces sandbox, and
  copying the submission to its private folder;
- one submission that holds no files (every check fails at once): the whole
  fixed cost of a graded submission, sandbox and pytest included;
- the reference graded alone: the fixed cost plus the checks' own work;
- a class of ``--students`` copies of the reference graded with ``--jobs`` jobs
  (default: what ``dlkit grade`` picks): submissions per minute when every
  check does its full work (the slowest case: wrong answers fail sooner).

Medians over ``--repeats`` are printed with the machine and its load average
(a shared machine's numbers move with what else runs), and written as Markdown
with ``--markdown FILE``.

    python benchmarks/grading_throughput.py --repeats 3 --students 4
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT))

from autograder.grading.discover import FOLDER, Found, materialize  # noqa: E402
from autograder.grading.isolate import (NAMESPACES, UNSHARE_FLAGS, GradeOptions, Limits,  # noqa: E402
                                        detect_isolation, grade_copy, private_folder)
from autograder.grading.run import BatchOptions, default_jobs, grade_class, load_week  # noqa: E402


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _grade_alone(submission: Path, week: str, options: GradeOptions) -> float:
    """Seconds to copy and grade one submission folder (``submission/<week>/``) in the sandbox."""
    files = load_week(week)
    private = private_folder()
    try:
        start = time.perf_counter()
        materialize(Found("bench", submission, FOLDER), week, files.files, files.other_weeks, private / "sub")
        grade_copy(private, options)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(private, ignore_errors=True)


def measure(week: str, students: int, jobs: int, isolation: str, scratch: Path) -> dict[str, float]:
    """One repeat of every measurement for ``week``: name -> seconds (or submissions per minute)."""
    python = [sys.executable, "-I", "-c"]
    row = {}
    start = _wall([*python, "pass"])
    row["python start"] = start
    row["import torch"] = _wall([*python, "import torch"]) - start
    row["import pytest + kit"] = (_wall([*python, f"import sys; sys.path.insert(0, {str(KIT)!r}); "
                                          "import torch, pytest, autograder.plugin"]) - start - row["import torch"])
    if isolation == NAMESPACES:
        row["enter namespaces"] = _wall([shutil.which("unshare"), *UNSHARE_FLAGS, *python, "pass"]) - start
    reference = KIT / "solutions"
    files = load_week(week)
    private = private_folder()
    t = time.perf_counter()
    materialize(Found("bench", reference, FOLDER), week, files.files, files.other_weeks, private / "sub")
    row["copy the submission"] = time.perf_counter() - t
    shutil.rmtree(private)
    options = GradeOptions(week, device="cpu", isolation=isolation, plots=False, limits=Limits(timeout_s=3600))
    empty = scratch / "empty"
    (empty / week).mkdir(parents=True, exist_ok=True)
    row["empty submission, graded"] = _grade_alone(empty, week, options)
    row["reference, graded alone"] = _grade_alone(reference, week, options)
    row["reference's checks (difference)"] = row["reference, graded alone"] - row["empty submission, graded"]
    klass = scratch / "class"
    if not klass.exists():
        for i in range(students):
            shutil.copytree(reference / week, klass / f"student{i:02d}" / week)
    out = scratch / "out"
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        grade_class(BatchOptions(klass, out, options, jobs=jobs), stream=quiet)
    row["class wall"] = time.perf_counter() - t
    row["submissions per minute"] = students / row["class wall"] * 60
    return row


def weeks_with_checks() -> list[str]:
    from autograder.spec import load_spec

    return [w for w in load_spec() if list((KIT / "autograder" / w).glob("test_*.py"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--students", type=int, default=4, help="copies of the reference in the timed class")
    parser.add_argument("--jobs", type=int, default=None, help="default: what dlkit grade picks")
    parser.add_argument("--weeks", nargs="*", default=None, help="default: every week with checks")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    isolation = detect_isolation("auto")
    jobs = args.jobs or default_jobs(1, Limits().memory_mb, "cpu")
    weeks = args.weeks or weeks_with_checks()
    load_before = os.getloadavg()
    tables = []
    for week in weeks:
        rows = []
        with tempfile.TemporaryDirectory(prefix="dlkit-bench-") as scratch:
            for repeat in range(args.repeats):
                rows.append(measure(week, args.students, jobs, isolation, Path(scratch)))
                print(f"{week} repeat {repeat + 1}/{args.repeats}: "
                      f"{rows[-1]['submissions per minute']:.1f} submissions/min", file=sys.stderr)
        lines = [f"### {week}: medians of {args.repeats} repeats", "", "| measure | median | runs |", "| --- | --- | --- |"]
        for name in rows[0]:
            values = [r[name] for r in rows]
            unit = "" if name == "submissions per minute" else " s"
            lines.append(f"| {name} | {statistics.median(values):.2f}{unit} | "
                         + ", ".join(f"{v:.2f}" for v in values) + " |")
        tables.append("\n".join(lines))
    load_after = os.getloadavg()
    import torch

    header = (f"Machine: {platform.processor() or platform.machine()}, {len(os.sched_getaffinity(0))} cores usable, "
              f"PyTorch {torch.__version__}, Python {platform.python_version()}, isolation {isolation}, "
              f"{jobs} jobs x 1 thread, {args.students} students per class, CPU checks (quick profile). "
              f"Load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after.")
    text = header + "\n\n" + "\n\n".join(tables) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
