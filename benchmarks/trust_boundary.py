"""What the trust boundary and the warm pool cost or save: this checkout against another (the kit before
the boundary), side by side, and this checkout with its grading pool on and off.

Each repeat runs every configuration in turn, so that load on the machine hits them alike:

- ``pytest autograder -k WEEK --submission solutions``: a student's own run, whole process
  (``before`` and ``now``; the pool plays no part there);
- ``dlkit grade`` on ``--empties`` submissions that hold no files (every check fails at once), one
  job: the median of their per-submission seconds is the fixed cost of one more submission beyond
  its checks (the batch's own start-up is not in it);
- ``dlkit grade`` on a class of ``--students`` copies of the reference, with each of ``--jobs``
  jobs: submissions per minute when every check does its full work.

    git worktree add /tmp/kit-before <the commit before the boundary>
    python benchmarks/trust_boundary.py --against /tmp/kit-before --repeats 3 \\
        --markdown docs/benchmarks/trust_boundary.md

Configurations: ``before`` (the other checkout), ``now, no pool`` (``--no-pool``: every grading
process started afresh), ``now`` (the default: forked from the warm pool). Medians, every run, and
ratios to ``before`` are written, with the machine and its load.
"""

from __future__ import annotations

import argparse
import json
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


def _grade(kit: Path, flags: list[str], klass: Path, week: str, jobs: int, env: dict[str, str],
           out: Path | None = None) -> float:
    with tempfile.TemporaryDirectory(prefix="dlkit-bench-out-") as scratch:
        out = out or Path(scratch)
        return _run(kit, ["-m", "dlkit.cli" if (kit / "dlkit" / "cli.py").exists() else "autograder.cli", "grade", str(klass), "--week", week, "--out", str(out),
                          "--jobs", str(jobs), "--no-plots", *flags], env)


def _per_submission_seconds(out: Path) -> list[float]:
    seconds = []
    for results in sorted(out.glob("students/*/results.json")):
        data = json.loads(results.read_text())
        seconds.append(float(data.get("execution_time") or data["extra_data"]["dlkit_grading"]["seconds"]))
    return seconds


def measure(configs: dict[str, tuple[Path, list[str]]], week: str, students: int, empties: int,
            jobs_list: list[int], scratch: Path, env) -> dict[str, dict[str, float]]:
    """One repeat for ``week``: configuration -> measure -> value."""
    klass, empty = scratch / f"class-{week}", scratch / f"empty-{week}"
    if not klass.exists():
        for i in range(students):
            shutil.copytree(HERE / "solutions" / week, klass / f"student{i:02d}" / week)
        for i in range(empties):
            (empty / f"nobody{i:02d}" / week).mkdir(parents=True)
    rows: dict[str, dict[str, float]] = {name: {} for name in configs}
    for name, (kit, flags) in configs.items():
        if not flags:  # the pool plays no part in a student's own run
            rows[name]["pytest autograder (reference), s"] = _run(
                kit, ["-m", "pytest", "autograder", "-k", week, "--submission", str(kit / "solutions"), "-q",
                      "-p", "no:randomly", "-p", "no:cacheprovider"], env)
    for name, (kit, flags) in configs.items():
        out = scratch / f"out-empty-{name.replace(' ', '_').replace(',', '')}"
        shutil.rmtree(out, ignore_errors=True)
        _grade(kit, flags, empty, week, 1, env, out)
        rows[name]["fixed cost per submission, s"] = statistics.median(_per_submission_seconds(out))
    for jobs in jobs_list:
        for name, (kit, flags) in configs.items():
            rows[name][f"submissions per minute, {jobs} job{'s' * (jobs != 1)}"] = \
                students / _grade(kit, flags, klass, week, jobs, env) * 60
    return rows


def _value(value: float) -> str:
    return f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="the other checkout (the kit before)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--empties", type=int, default=4)
    parser.add_argument("--jobs", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--weeks", nargs="*", default=["week1", "week2"])
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    configs = {"before": (args.against.resolve(), []), "now, no pool": (HERE, ["--no-pool"]), "now": (HERE, [])}
    env = {**os.environ, "DLKIT_THREADS": "1"}
    load_before = os.getloadavg()
    tables = []
    with tempfile.TemporaryDirectory(prefix="dlkit-bench-") as scratch:
        for week in args.weeks:
            runs = []
            for repeat in range(args.repeats):
                runs.append(measure(configs, week, args.students, args.empties, args.jobs, Path(scratch), env))
                print(f"{week} repeat {repeat + 1}/{args.repeats}: {json.dumps(runs[-1])}", file=sys.stderr)
            names = list(configs)
            lines = [f"### {week}: medians of {args.repeats} alternating repeats", "",
                     "| measure | " + " | ".join(names) + " | now / before | runs (" + "; ".join(names) + ") |",
                     "| --- " * (len(names) + 3) + "|"]
            for measure_name in runs[0]["now"]:
                medians = {n: statistics.median([r[n][measure_name] for r in runs]) if measure_name in runs[0][n]
                           else None for n in names}
                cells = [_value(medians[n]) if medians[n] is not None else "—" for n in names]
                ratio = medians["now"] / medians["before"] if medians["before"] else float("nan")
                every = "; ".join(", ".join(f"{r[n][measure_name]:.1f}" for r in runs) if medians[n] is not None
                                  else "—" for n in names)
                lines.append(f"| {measure_name} | " + " | ".join(cells) + f" | {ratio:.2f} | {every} |")
            tables.append("\n".join(lines))
    load_after = os.getloadavg()
    import torch

    header = (f"Machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores, PyTorch {torch.__version__}, "
              f"Python {platform.python_version()}; data root {os.environ.get('DLKIT_DATA', '(default)')}; "
              f"1 PyTorch thread per process; {args.students} copies of the reference per class, "
              f"{args.empties} empty submissions for the fixed cost. 'before' is {configs['before'][0]}. "
              f"Load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after.")
    text = header + "\n\n" + "\n\n".join(tables) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
