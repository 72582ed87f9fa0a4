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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=25, help="how long each submission sleeps at import")
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlkit-memory-") as scratch:
        klass = Path(scratch) / "class"
        for i in range(args.jobs):
            folder = klass / f"sleeper{i}" / "week1"
            shutil.copytree(HERE / "solutions" / "week1", folder)
            path = folder / "tensor_ops.py"
            path.write_text(SLEEP.format(seconds=args.seconds) + path.read_text())
        batch = subprocess.Popen([sys.executable, "-m", "autograder.cli", "grade", str(klass), "--week", "week1",
                                  "--out", str(Path(scratch) / "out"), "--jobs", str(args.jobs), "--no-plots",
                                  "--check-timeout", str(args.seconds * 4)], cwd=HERE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best: dict[str, list[tuple[float, float]]] = {}
        deadline = time.monotonic() + args.seconds + 60
        while batch.poll() is None and time.monotonic() < deadline:
            tree = _descendants(batch.pid)
            servers = [pid for pid, parent in tree.items()
                       if parent == batch.pid and "autograder.grading.pool" in _cmdline(pid)]
            kinds: dict[str, list[tuple[float, float]]] = {}
            for pid, parent in tree.items():
                memory = _memory(pid)
                if memory is None:
                    continue
                has_children = any(p == pid for p in tree.values())
                if pid in servers:
                    kind = "pool server (PyTorch, pytest, checks, reference)"
                elif parent in servers:
                    kind = "workers' zygote" if has_children else "grading process (one per submission)"
                elif any(parent == p for p in tree if tree.get(p) in servers):
                    kind = "worker, as forked (its sandbox's parents included)"
                else:
                    kind = "worker, as forked (its sandbox's parents included)" if tree.get(parent) else "batch"
                kinds.setdefault(kind, []).append(memory)
            if sum(len(v) for v in kinds.values()) > sum(len(v) for v in best.values()):
                best = kinds
            time.sleep(0.5)
        batch.wait()
    rows = ["| processes | count | RSS each, MB | PSS each, MB | PSS in all, MB |", "| --- | --- | --- | --- | --- |"]
    for kind, values in sorted(best.items()):
        rss = sorted(v[0] for v in values)
        pss = sorted(v[1] for v in values)
        rows.append(f"| {kind} | {len(values)} | {rss[0]:.0f} to {rss[-1]:.0f} | {pss[0]:.0f} to {pss[-1]:.0f} | "
                    f"{sum(pss):.0f} |")
    total_pss = sum(v[1] for values in best.values() for v in values)
    total_rss = sum(v[0] for values in best.values() for v in values)
    text = (f"{args.jobs} submissions graded at once with the pool, every process sampled while the students' "
            f"code slept at import. RSS in all {total_rss:.0f} MB (shared pages counted in every process), "
            f"PSS in all {total_pss:.0f} MB (shared pages counted once).\n\n" + "\n".join(rows) + "\n")
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
