"""Memory of the warm pool: what one more submission's grading process and worker add.

Grades, with ``dlkit grade`` and its pool, ``--students`` submissions whose ``tensor_ops.py`` sleeps at
import (so every grading process and worker is alive at once, one job each, ``--jobs`` of them), and
samples each process of the run while they sleep: resident memory (RSS, shared pages counted in every
process that maps them) and proportional memory (PSS, shared pages divided among the processes that
share them, so the sum is what the run costs). Linux only (``/proc/<pid>/smaps_rollup``).

    python benchmarks/pool_memory.py --jobs 2 --markdown docs/benchmarks/pool_memory.md
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
SLEEP = "import time\ntime.sleep({seconds})\n"


def _memory(pid: int) -> tuple[float, float] | None:
    """(RSS, PSS) of ``pid`` in MB."""
    values = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("Rss", "Pss"):
                    values[key] = int(rest.split()[0]) / 1024
    except OSError:
        return None
    return values.get("Rss", 0.0), values.get("Pss", 0.0)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _descendants(root: int) -> dict[int, int]:
    """pid -> parent pid, for every process under ``root``."""
    parents = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in found:
                found[child] = pid
                frontier.append(child)
    return found


KINDS = {
    "server": "pool server (PyTorch, pytest, checks, reference)",
    "zygote": "workers' zygote (forked before the checks load)",
    "grader": "grading process, one per submission",
    "worker": "worker and its sandbox's two parents, per submission",
}


def _classify(batch: int, tree: dict[int, int]) -> dict[str, list[tuple[float, float]]]:
    """Memory of every process under the batch, by the part it plays in the pool."""
    servers = {pid for pid, parent in tree.items()
               if parent == batch and "dlkit.grading.pool" in _cmdline(pid)}
    kinds: dict[str, list[tuple[float, float]]] = {"batch": [m] if (m := _memory(batch)) else []}
    for pid, parent in tree.items():
        memory = _memory(pid)
        if memory is None:
            continue
        if pid in servers:
            kind = "server"
        elif parent in servers:
            kind = "zygote" if pid in tree.values() else "grader"  # graders have no children of their own
        else:
            kind = "worker"
        kinds.setdefault(kind, []).append(memory)
    return kinds


def _measure(jobs: int, seconds: int, pool: bool = True) -> dict[str, list[tuple[float, float]]]:
    """Grade ``jobs`` sleeping submissions at once; the fullest sample of the run's processes."""
    with tempfile.TemporaryDirectory(prefix="dlkit-memory-") as scratch:
        klass = Path(scratch) / "class"
        for i in range(jobs):
            folder = klass / f"sleeper{i}" / "week1"
            shutil.copytree(HERE / "solutions" / "week1", folder)
            path = folder / "tensor_ops.py"
            path.write_text(SLEEP.format(seconds=seconds) + path.read_text())
        batch = subprocess.Popen([sys.executable, "-m", "dlkit.cli", "grade", str(klass), "--week", "week1",
                                  "--out", str(Path(scratch) / "out"), "--jobs", str(jobs), "--no-plots",
                                  "--check-timeout", str(seconds * 4)] + ([] if pool else ["--no-pool"]), cwd=HERE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best: dict[str, list[tuple[float, float]]] = {}
        deadline = time.monotonic() + seconds + 60
        while batch.poll() is None and time.monotonic() < deadline:
            kinds = _classify(batch.pid, _descendants(batch.pid))
            if sum(map(len, kinds.values())) >= sum(map(len, best.values())):
                best = kinds
            time.sleep(0.5)
        batch.wait()
    return best


def _total(kinds: dict[str, list[tuple[float, float]]]) -> float:
    return sum(pss for values in kinds.values() for _, pss in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 4],
                        help="submissions graded at once, one run each (sleeping code, so more jobs than cores is fine)")
    parser.add_argument("--seconds", type=int, default=25, help="how long each submission sleeps at import")
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    runs = {jobs: _measure(jobs, args.seconds) for jobs in args.jobs}
    fresh = {jobs: _total(_measure(jobs, args.seconds, pool=False)) for jobs in (min(args.jobs), max(args.jobs))}
    labels = {"batch": "batch (`dlkit grade`)", **KINDS}
    rows = ["| jobs | processes | count | RSS each, MB | PSS each, MB | PSS in all, MB |",
            "| --- | --- | --- | --- | --- | --- |"]
    for jobs, kinds in runs.items():
        for kind in labels:
            values = kinds.get(kind, [])
            if not values:
                continue
            rss = sorted(v[0] for v in values)
            pss = sorted(v[1] for v in values)
            rows.append(f"| {jobs} | {labels[kind]} | {len(values)} | {rss[0]:.0f} to {rss[-1]:.0f} | "
                        f"{pss[0]:.0f} to {pss[-1]:.0f} | {sum(pss):.0f} |")
        rows.append(f"| {jobs} | **all** | {sum(map(len, kinds.values()))} | | | **{_total(kinds):.0f}** |")
    few, many = min(runs), max(runs)
    marginal = (_total(runs[many]) - _total(runs[few])) / (many - few) if many > few else float("nan")
    text = (f"Submissions graded at once with the pool (one run per row group), every process sampled while the "
            f"students' code slept at import. PSS counts shared pages once (divided among the processes that "
            f"share them), so a run's PSS in all is what it costs; RSS counts them in every process.\n\n"
            + "\n".join(rows) + f"\n\nMemory per extra submission graded at once: **{marginal:.0f} MB** "
            f"(PSS in all with {many} jobs minus with {few}, divided by {many - few}). Without the pool "
            f"(`--no-pool`, a fresh grading process per submission), measured the same way in the same run: "
            f"PSS in all {fresh[few]:.0f} MB with {few} job(s), {fresh[many]:.0f} MB with {many}, so "
            f"**{(fresh[many] - fresh[few]) / max(many - few, 1):.0f} MB** per extra submission.\n")
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
