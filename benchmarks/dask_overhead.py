"""What grading through Dask costs against grading here, on the same machine, side by side.

Each repeat runs every configuration in turn, so that load on the machine hits them alike:

- ``local``: ``dlkit grade --jobs J`` (the default executor, warm pool);
- ``dask, LocalCluster``: ``--executor dask --jobs J`` (the run starts J one-thread workers and ends them);
- ``dask, running cluster``: ``--executor dask --scheduler FILE`` against ``dask scheduler`` and J
  ``dask worker --nthreads 1`` processes this script starts once (their warm pools stay up between runs,
  as on a cluster that serves many runs).

on two classes of week 1: ``--students`` copies of the reference (every check does its full work) and
``--empties`` submissions without files (every check fails at once: what is left is the cost of one more
submission beyond its checks). Overhead per submission = (wall time of the configuration - wall time of
``local``) / submissions, within one repeat; medians over repeats.

    python benchmarks/dask_overhead.py --repeats 3 --markdown docs/benchmarks/dask_overhead.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def start_cluster(folder: Path, workers: int) -> tuple[list[subprocess.Popen], Path]:
    """``dask scheduler`` and ``workers`` one-thread ``dask worker`` processes; returns them and the scheduler file."""
    scheduler_file = folder / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
    log = open(folder / "cluster.log", "wb")
    dask = [sys.executable, "-m", "dask"]
    processes = [subprocess.Popen([*dask, "scheduler", "--no-dashboard", "--port", "0", "--scheduler-file",
                                   str(scheduler_file)], env=env, stdout=log, stderr=log, start_new_session=True)]
    while not scheduler_file.is_file():
        time.sleep(0.2)
    for i in range(workers):
        processes.append(subprocess.Popen([*dask, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                                           "--no-dashboard", "--memory-limit", "0", "--local-directory",
                                           str(folder / f"w{i}")], env=env, stdout=log, stderr=log,
                                          start_new_session=True))
    from distributed import Client

    with Client(scheduler_file=str(scheduler_file), timeout=60) as client:
        client.wait_for_workers(workers, timeout=120)
    return processes, scheduler_file


def stop_cluster(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        process.wait(30)


def grade_seconds(klass: Path, flags: list[str]) -> tuple[float, float]:
    """Wall time of ``dlkit grade`` on ``klass``, and the median of its submissions' own grading time (measured
    where each was graded, from its copy to its record)."""
    with tempfile.TemporaryDirectory(prefix="dlkit-bench-out-") as out:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dlkit.cli", "grade", str(klass), "--week", "week1", "--out", out,
                        "--no-plots", "--class-seed", "1", *flags], cwd=HERE, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        each = [json.loads(p.read_text())["execution_time"] for p in Path(out).glob("students/*/results.json")]
        return wall, statistics.median(each)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--students", type=int, default=6)
    parser.add_argument("--empties", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="dlkit-bench-dask-"))
    classes = {"reference": scratch / "reference", "empty": scratch / "empty"}
    for i in range(args.students):
        shutil.copytree(HERE / "solutions" / "week1", classes["reference"] / f"student{i:02d}" / "week1")
    for i in range(args.empties):
        (classes["empty"] / f"nobody{i:02d}" / "week1").mkdir(parents=True)
    counts = {"reference": args.students, "empty": args.empties}
    processes, scheduler_file = start_cluster(scratch, args.jobs)
    configs = {"local": ["--jobs", str(args.jobs)],
               "dask, LocalCluster": ["--executor", "dask", "--jobs", str(args.jobs)],
               "dask, running cluster": ["--executor", "dask", "--scheduler", str(scheduler_file)]}
    runs: dict[tuple[str, str], list[float]] = {(c, k): [] for c in configs for k in classes}
    own: dict[tuple[str, str], list[float]] = {(c, k): [] for c in configs for k in classes}
    overheads: dict[tuple[str, str], list[float]] = {(c, k): [] for c in configs for k in classes}
    try:
        grade_seconds(classes["empty"], configs["dask, running cluster"])  # the workers' pools warm up once
        for repeat in range(args.repeats):
            for kind, klass in classes.items():
                measured = {name: grade_seconds(klass, flags) for name, flags in configs.items()}
                seconds = {name: wall for name, (wall, _each) in measured.items()}
                for name, (value, each) in measured.items():
                    runs[(name, kind)].append(value)
                    own[(name, kind)].append(each)
                    overheads[(name, kind)].append((value - seconds["local"]) / counts[kind])
                print(f"repeat {repeat + 1}, {kind}: " + ", ".join(f"{n} {v:.1f} s" for n, v in seconds.items()),
                      file=sys.stderr)
    finally:
        stop_cluster(processes)
        shutil.rmtree(scratch, ignore_errors=True)

    import distributed
    import torch

    lines = [
        "# Dask executor: overhead against the local one",
        "",
        f"Written by `python benchmarks/dask_overhead.py --repeats {args.repeats} --students {args.students} "
        f"--empties {args.empties} --jobs {args.jobs}`, {time.strftime('%Y-%m-%d')}; {platform.machine()}, "
        f"{os.cpu_count()} cores, PyTorch {torch.__version__}, distributed {distributed.__version__}, week 1, "
        f"{args.jobs} jobs or workers of one thread, every configuration in turn within each repeat.",
        "",
        "| class | configuration | wall time, s (median) | every run, s | overhead per submission against local, s "
        "(median) | ratio to local | one submission's own grading, s (median) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind in classes:
        local = statistics.median(runs[("local", kind)])
        for name in configs:
            wall = statistics.median(runs[(name, kind)])
            every = ", ".join(f"{v:.1f}" for v in runs[(name, kind)])
            overhead = "-" if name == "local" else f"{statistics.median(overheads[(name, kind)]):+.2f}"
            label = f"{counts[kind]} {'copies of the reference' if kind == 'reference' else 'empty submissions'}"
            lines.append(f"| {label} | {name} | {wall:.1f} | {every} | {overhead} | {wall / local:.2f} | "
                         f"{statistics.median(own[(name, kind)]):.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
