"""A killed run resumes: nobody finished is graded again, nobody is lost, a changed submission is regraded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from autograder.settings import KIT_ROOT
from tests.grading.grading_classes import BASE, SOLUTIONS, WEEK, grade_command, read_gradebook, week_folder
from tests.grading.test_hostile import processes_with_tmpdir

STUDENTS = ["ann", "bob", "cat", "dan"]


def results_times(out) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in (out / "students").glob("*/results.json")}


def test_killed_run_resumes_without_regrading_or_losing_anyone(tmp_path):
    root, out, tmp = tmp_path / "class", tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    for student in STUDENTS:
        week_folder(root / student, {BASE: SOLUTIONS / BASE})
    command = [sys.executable, "-m", "dlkit.cli", "grade", str(root), "--week", WEEK, "--out", str(out),
               "--jobs", "1", "--no-plots"]
    run = subprocess.Popen(command, cwd=KIT_ROOT, env={**os.environ, "TMPDIR": str(tmp)},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not results_times(out) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    run.send_signal(signal.SIGKILL)  # no chance to clean up: as if the machine went down
    run.wait()
    first = results_times(out)
    assert 1 <= len(first) < len(STUDENTS)
    for _ in range(100):  # the children notice their parent is gone and end
        if not processes_with_tmpdir(tmp):
            break
        time.sleep(0.1)
    assert processes_with_tmpdir(tmp) == []

    proc = grade_command(root, out, "--jobs", "2", tmp=tmp)
    assert proc.returncode == 0, proc.stderr
    assert f"{len(first)} of {len(STUDENTS)} already graded" in proc.stderr
    second = results_times(out)
    assert sorted(second) == STUDENTS and sorted(read_gradebook(out)) == STUDENTS
    assert {s: second[s] for s in first} == first  # not graded again
    assert not [p for p in (out / "students").iterdir() if p.name.startswith(".")]  # no half-written folders

    changed = STUDENTS[0]
    (root / changed / WEEK / BASE).write_text((SOLUTIONS / BASE).read_text() + "\n# resubmitted\n")
    proc = grade_command(root, out, tmp=tmp)
    assert proc.returncode == 0, proc.stderr
    third = results_times(out)
    assert [s for s in STUDENTS if third[s] != second[s]] == [changed]
