"""What Dask's ``MALLOC_TRIM_THRESHOLD_=65536`` does to PyTorch training on the CPU.

A Dask nanny starts its worker with that variable set (``distributed.nanny.pre-spawn-environ``), and every
process the worker starts inherits it: the grading processes and the students' workers would train with
glibc returning freed memory to the system every 64 KiB. This times one training loop (the spiral's shape:
a 2-100-3 MLP, Adam, 3000 points, 1 thread) in fresh processes with the variable and without, alternated.

    python benchmarks/malloc_trim.py --repeats 5 --markdown docs/benchmarks/malloc_trim.md
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

LOOP = """
import time, torch
torch.set_num_threads(1)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(2, 100), torch.nn.ReLU(), torch.nn.Linear(100, 3))
optimizer = torch.optim.Adam(model.parameters(), 1e-3)
x, y = torch.randn(3000, 2), torch.randint(0, 3, (3000,))
start = time.perf_counter()
for _ in range(1000):
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
print(time.perf_counter() - start)
"""


def seconds(trim: bool) -> float:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    if trim:
        env["MALLOC_TRIM_THRESHOLD_"] = "65536"
    return float(subprocess.run([sys.executable, "-c", LOOP], env=env, capture_output=True, text=True,
                                check=True).stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args(argv)
    runs: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.repeats):
        for trim in (False, True):
            runs[trim].append(seconds(trim))
    import torch

    default, trimmed = statistics.median(runs[False]), statistics.median(runs[True])
    ratios = [t / d for d, t in zip(runs[False], runs[True])]
    text = "\n".join([
        "# Dask's MALLOC_TRIM_THRESHOLD_ and PyTorch training",
        "",
        f"Written by `python benchmarks/malloc_trim.py --repeats {args.repeats}`, {time.strftime('%Y-%m-%d')}; "
        f"{platform.machine()}, {os.cpu_count()} cores, PyTorch {torch.__version__}; 1000 Adam steps of a 2-100-3 "
        "MLP on 3000 points, 1 thread, a fresh process per run, the two settings alternated.",
        "",
        "| glibc setting | seconds (median) | every run |",
        "| --- | --- | --- |",
        f"| default | {default:.2f} | {', '.join(f'{v:.2f}' for v in runs[False])} |",
        f"| `MALLOC_TRIM_THRESHOLD_=65536` (a Dask nanny's) | {trimmed:.2f} | "
        f"{', '.join(f'{v:.2f}' for v in runs[True])} |",
        "",
        f"Slower with Dask's setting: **{trimmed / default:.2f}x** (median); run by run "
        f"{min(ratios):.2f}x to {max(ratios):.2f}x. `dlkit.grading.dask_task` removes the variable before a "
        "worker starts grading processes.",
    ]) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
