"""Private folders of a ``dlkit grade`` killed outright are cleaned at the next start, and only those."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from dlkit.grading.isolate import _start_time, private_folder, stale_private_folders
from autograder.settings import KIT_ROOT
from tests.grading.grading_classes import SOLUTIONS, WEEK, grade_command, week_folder

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="owners are read from /proc (Linux)")


def _ended_process() -> tuple[int, int]:
    """(pid, start time) of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    started = _start_time(proc.pid)
    proc.kill()
    proc.wait()
    return proc.pid, started


def test_only_folders_whose_owner_is_gone_are_stale(tmp_path):
    mine = private_folder(str(tmp_path))
    pid, started = _ended_process()
    dead = tmp_path / f"dlkit-grade-{pid}-{started}-abc123"
    reused = tmp_path / f"dlkit-grade-{os.getpid()}-{_start_time(os.getpid()) + 1}-abc123"  # same pid, other process
    older_kit = tmp_path / "dlkit-grade-k3j4h5"
    other = tmp_path / f"something-{pid}-{started}-x"
    for folder in (dead, reused, older_kit, other):
        folder.mkdir()
    assert sorted(stale_private_folders(str(tmp_path))) == sorted([dead, reused])
    assert mine.name.startswith(f"dlkit-grade-{os.getpid()}-")


def test_a_killed_run_is_cleaned_up_by_the_next(tmp_path):
    root = week_folder(tmp_path / "class" / "ada", {"tensor_ops.py": SOLUTIONS / "tensor_ops.py"}).parent
    temp = tmp_path / "tmp"
    temp.mkdir()
    command = [sys.executable, "-m", "dlkit.cli", "grade", str(root), "--week", WEEK,
               "--out", str(tmp_path / "out"), "--no-plots"]
    proc = subprocess.Popen(command, cwd=KIT_ROOT, env={**os.environ, "TMPDIR": str(temp)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(temp.glob("dlkit-grade-*")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    left = list(temp.glob("dlkit-grade-*"))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert left, "the run never made its private folder"
    time.sleep(1)  # the sandbox's processes end with their parent
    assert all(folder.exists() for folder in left)
    again = grade_command(root, tmp_path / "out", tmp=temp)
    assert again.returncode == 0, again.stderr
    assert not any(folder.exists() for folder in left)
