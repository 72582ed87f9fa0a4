"""What the trust boundary costs: this checkout against another (the kit before it), side by side.

Each repeat runs, in turn for both checkouts so that load on the machine hits them alike:

- ``pytest autograder -k WEEK --submission solutions`` (a student's own run, whole process);
- ``dlkit grade`` on a class of ``--students`` copies of the reference, with ``--jobs`` jobs (every
  check does its full work): submissions per minute;
- ``dlkit grade`` on one submission that holds no files (every check fails at once): the fixed cost of
  one submission beyond its checks.

    git worktree add /tmp/kit-before <commit before the boundary>
    python benchmarks/trust_boundary.py --against /tmp/kit-before --repeats 3 \\
        --markdown docs/benchmarks/trust_boundary.md

Medians and the ratio (this checkout / the other) are printed, with the machine and its load.
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

HERE = Path(__file__).resolve().parent.parent


def _run(kit: Path, args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=kit, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _grade(kit: Path, klass: Path, week: str, jobs: int, env: dict[str, str]) -> float:
    with tempfile.TemporaryDirectory(prefix="dlkit-bench-out-") as out:
        return _run(kit, ["-m", "autograder.cli", "grade", str(klass), "--week", week, "--out", out, "--jobs",
                          str(jobs), "--no-plots"], env)


def _class(root: Path, week: str, students: int) -> Path:
    for i in range(students):
        shutil.copytree(HERE / "solutions" / week, root / f"student{i:02d}" / week)
    return root


def measure(kits: dict[str, Path], week: str, students: int, jobs: int, scratch: Path, env) -> dict[str, dict]:
    """One repeat for ``week``: kit name -> measure -> seconds (or submissions per minute)."""
    klass = scratch / f"class-{week}"
    if not klass.exists():
        _class(klass, week, students)
    empty = scratch / f"empty-{week}"
    (empty / "nobody" / week).mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict] = {name: {} for name in kits}
    for name, kit in kits.items():
        rows[name]["pytest autograder (reference), s"] = _run(
            kit, ["-m", "pytest", "autograder", "-k", week, "--submission", str(kit / "solutions"), "-q",
                  "-p", "no:randomly", "-p", "no:cacheprovider"], env)
    for name, kit in kits.items():
        rows[name]["one empty submission graded, s"] = _grade(kit, empty, week, 1, env)
    for name, kit in kits.items():
        wall = _grade(kit, klass, week, jobs, env)
        rows[name][f"class of {students}, {jobs} jobs, s"] = wall
        rows[name]["submissions per minute"] = students / wall * 60
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="the other checkout (the kit before)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--weeks", nargs="*", default=["week1", "week2"])
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    kits = {"before": args.against.resolve(), "now": HERE}
    env = {**os.environ, "DLKIT_THREADS": "1"}
    load_before = os.getloadavg()
    tables = []
    with tempfile.TemporaryDirectory(prefix="dlkit-bench-") as scratch:
        for week in args.weeks:
            runs = []
            for repeat in range(args.repeats):
                runs.append(measure(kits, week, args.students, args.jobs, Path(scratch), env))
                print(f"{week} repeat {repeat + 1}/{args.repeats}: " + ", ".join(
                    f"{name} {run['submissions per minute']:.1f}/min" for name, run in runs[-1].items()),
                      file=sys.stderr)
            lines = [f"### {week}: medians of {args.repeats} alternating repeats", "",
                     "| measure | before | now | now / before | runs (before; now) |", "| --- | --- | --- | --- | --- |"]
            for measure_name in runs[0]["now"]:
                before = [run["before"][measure_name] for run in runs]
                now = [run["now"][measure_name] for run in runs]
                lines.append(f"| {measure_name} | {statistics.median(before):.2f} | {statistics.median(now):.2f} | "
                             f"{statistics.median(now) / statistics.median(before):.2f} | "
                             + ", ".join(f"{v:.1f}" for v in before) + "; " + ", ".join(f"{v:.1f}" for v in now)
                             + " |")
            tables.append("\n".join(lines))
    load_after = os.getloadavg()
    import torch

    header = (f"Machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores, PyTorch {torch.__version__}, "
              f"Python {platform.python_version()}; data root {os.environ.get('DLKIT_DATA', '(default)')}; "
              f"1 PyTorch thread per process; {args.students} copies of the reference per class. "
              f"'before' is {kits['before']}, 'now' this checkout. Load average (1 min) {load_before[0]:.1f} "
              f"before, {load_after[0]:.1f} after.")
    text = header + "\n\n" + "\n\n".join(tables) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
