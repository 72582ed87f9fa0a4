"""Wall time of ``dlkit grade`` on a week-1 class where most submissions misbehave.

The class is the kit's hostile class (tests/grading/grading_classes.py: one submission per hostile
behaviour, a file that loops at import among them, broken zips, a stray file) plus the reference,
the untouched release and a partial solution, graded with the default limits (the quick profile's
120 s per check) and 2 jobs. Prints the batch's own summary line and the wall time::

    python benchmarks/hostile_class.py            # results: docs/benchmarks/hostile_class.md
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dlkit.grading.isolate import NAMESPACES, detect_isolation  # noqa: E402
from autograder.settings import KIT_ROOT  # noqa: E402
from tests.grading.grading_classes import build_hostile_class, build_realistic_class  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = build_hostile_class(Path(tmp) / "class", namespaces=detect_isolation() == NAMESPACES)
        build_realistic_class(root, ("reference", "release", "partial"))
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "dlkit.cli", "grade", str(root), "--week", "week1",
                               "--out", str(Path(tmp) / "out"), "--jobs", "2", "--no-plots"],
                              cwd=KIT_ROOT, capture_output=True, text=True)
        seconds = time.monotonic() - start
    summary = next((line for line in proc.stderr.splitlines() if "students in" in line), proc.stderr[-500:])
    print(f"{summary}\nwall time {seconds:.0f} s, exit status {proc.returncode}")


if __name__ == "__main__":
    main()
