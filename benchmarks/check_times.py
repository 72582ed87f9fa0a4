"""Wall time of ``pytest autograder -k WEEK`` on the quick profile, as a student runs it.

Each run is a fresh process (start-up, imports and data loading included), on
the reference solutions so that every check does its full work. Thread counts
alternate within each repeat; medians are printed (and written as Markdown
with ``--markdown FILE``).

    python benchmarks/check_times.py --repeats 3 --threads 1 2
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent


def run_week(week: str, threads: int) -> tuple[float, str]:
    command = [sys.executable, "-m", "pytest", "autograder", "-q", "-k", week, "--submission", "solutions",
               "--profile", "quick", "--device", "cpu", "--threads", str(threads)]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=KIT_ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    total = next((line.strip() for line in proc.stdout.splitlines() if line.startswith("TOTAL")), "no total")
    return seconds, " ".join(total.split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weeks", nargs="+", default=["week1", "week2"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    timings = {(week, t): [] for week in args.weeks for t in args.threads}
    totals = {}
    for _ in range(args.repeats):
        for week in args.weeks:
            for threads in args.threads:
                seconds, totals[week] = run_week(week, threads)
                timings[(week, threads)].append(seconds)
    lines = [f"`pytest autograder -k WEEK --submission solutions --profile quick`, wall time of a fresh process, "
             f"median of {args.repeats} alternating runs; {platform.machine()}, {os.cpu_count()} cores, "
             f"DLKIT_DATA={os.environ.get('DLKIT_DATA', '(default)')}", "",
             "| week | threads | median (s) | min (s) | max (s) | points |", "| --- | --- | --- | --- | --- | --- |"]
    for (week, threads), values in timings.items():
        lines.append(f"| {week} | {threads} | {statistics.median(values):.1f} | {min(values):.1f} | {max(values):.1f} "
                     f"| {totals[week].replace('TOTAL ', '')} |")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
