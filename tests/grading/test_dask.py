"""``dlkit grade --executor dask`` on a real cluster: a scheduler and two workers started as processes with
Dask's own command line, as a TA would start them.

The sample and hostile classes graded through the cluster give the local executor's gradebook (the same
class seed); a worker killed in the middle of a run costs nothing; a submission whose workers are killed
twice gets a row saying so and is graded by the next run; workers without the week's data stop the run at
their first task, naming themselves and the fix.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograder.i18n import render
from autograder.settings import KIT_ROOT
from dlkit.grading.dask_task import grade_ticket, kit_fingerprint, options_to_data
from dlkit.grading.isolate import GradeOptions
from dlkit.grading.on_dask import unfit_message
from tests.grading.grading_classes import (BASE, CLASS_SEED, HOSTILE_OPTIONS, grade_command, read_gradebook,
                                           read_student, reference_with, week_folder)
from tests.grading.test_hostile import processes_with_tmpdir

WORKERS = ("w1", "w2")


class DaskCluster:
    """``dask scheduler`` and two ``dask worker`` processes (each with a nanny that restarts it when killed)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.scheduler_file = folder / "scheduler.json"
        self.no_data = folder / "no_data"  # the workers' DLKIT_DATA: week 1 needs none, week 2 finds none
        self.no_data.mkdir()
        env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
        self.log = open(folder / "cluster.log", "wb")
        dask = [sys.executable, "-m", "dask"]
        self.processes = [subprocess.Popen([*dask, "scheduler", "--no-dashboard", "--port", "0", "--scheduler-file",
                                            str(self.scheduler_file)], env=env, stdout=self.log, stderr=self.log,
                                           start_new_session=True)]
        self.wait(lambda: self.scheduler_file.is_file(), "the scheduler's file")
        for name in WORKERS:
            (folder / name).mkdir()
            worker_env = {**env, "TMPDIR": str(folder / name), "DLKIT_DATA": str(self.no_data)}
            self.processes.append(subprocess.Popen(
                [*dask, "worker", "--scheduler-file", str(self.scheduler_file), "--nthreads", "1", "--name", name,
                 "--no-dashboard", "--local-directory", str(folder / name / "dask")],
                env=worker_env, stdout=self.log, stderr=self.log, start_new_session=True))
        self.wait(lambda: len(self.worker_addresses()) == len(WORKERS), "two workers")

    def worker_addresses(self) -> list[str]:
        from distributed import Client

        with Client(scheduler_file=str(self.scheduler_file), timeout=30) as client:
            return sorted(client.scheduler_info(n_workers=-1)["workers"])

    def wait(self, ready, what: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while not ready():
            assert time.monotonic() < deadline, f"no {what} after {seconds} s: {self.log_text()}"
            time.sleep(0.2)

    def grading(self) -> list[tuple[int, Path]]:
        """(worker pid, private folder) of every submission being graded now: a worker names its private
        folders after its own pid (dlkit-grade-<pid>-...) in its TMPDIR."""
        found = []
        for name in WORKERS:
            for folder in (self.folder / name).glob("dlkit-grade-*"):
                found.append((int(folder.name.split("-")[2]), folder))
        return found

    def log_text(self) -> str:
        self.log.flush()
        return (self.folder / "cluster.log").read_text(errors="replace")[-4000:]

    def close(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.log.close()


class Killer(threading.Thread):
    """Kills, with SIGKILL, each worker process found grading, up to ``times`` of them, each once."""

    def __init__(self, cluster: DaskCluster, times: int):
        super().__init__(daemon=True)
        self.cluster, self.times = cluster, times
        self.killed: list[tuple[int, Path]] = []
        self.done = threading.Event()

    def run(self) -> None:
        seen = set()
        while len(self.killed) < self.times and not self.done.is_set():
            for pid, folder in self.cluster.grading():
                if pid not in seen and len(self.killed) < self.times:
                    seen.add(pid)
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        continue
                    self.killed.append((pid, folder))
            time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    started = DaskCluster(tmp_path_factory.mktemp("dask"))
    yield started
    started.close()


def dask_grade(cluster: DaskCluster, submissions: Path, out: Path, *args: str, week: str | None = None,
               **popen) -> subprocess.CompletedProcess:
    extra = ("--week", week) if week else ()
    return grade_command(submissions, out, "--executor", "dask", "--scheduler", str(cluster.scheduler_file),
                         *args, *extra, **popen)


def same_rows(local: Path, remote: Path, students: tuple[str, ...] | None = None) -> None:
    """The gradebooks are equal (or their rows for ``students``), every student's checks (scores, messages,
    seeds), what graded them and their feedback too, and the class summary when the whole class was graded."""
    here_rows = read_gradebook(local)
    whole = students is None
    students = students or tuple(here_rows)
    assert read_gradebook(remote) == {student: here_rows[student] for student in students}
    if whole:
        assert (remote / "summary.md").read_text() == (local / "summary.md").read_text()
    for student in students:
        here, there = read_student(local, student), read_student(remote, student)
        assert there["tests"] == here["tests"], student
        assert (remote / "students" / student / "feedback.md").read_text() == \
            (local / "students" / student / "feedback.md").read_text(), student
        if here_rows[student]["status"] == "invalid_submission":  # never graded: no provenance but the
            continue  # settings, whose "auto" device a cluster run decides once for the class (docs/dask.md)
        assert there["extra_data"].get("dlkit") == here["extra_data"].get("dlkit"), student


def test_the_sample_class_through_two_workers_is_the_local_gradebook_though_a_worker_dies(cluster, graded,
                                                                                           tmp_path):
    root, outs = graded
    killer = Killer(cluster, times=1)
    killer.start()
    proc = dask_grade(cluster, root, tmp_path / "out", "--class-seed", str(CLASS_SEED))
    killer.done.set()
    assert proc.returncode == 0, proc.stderr + cluster.log_text()
    assert len(killer.killed) == 1, "no worker was grading when the killer looked"
    same_rows(outs[2], tmp_path / "out")
    assert "on the Dask cluster at tcp://" in proc.stderr
    pid, private = killer.killed[0]
    assert processes_with_tmpdir(private) == []  # what the killed worker started ended with it


def test_the_hostile_class_through_the_cluster_is_the_local_gradebook(cluster, hostile, tmp_path):
    root, local_out, _tmp, _proc = hostile
    proc = dask_grade(cluster, root, tmp_path / "out", "--jobs", "2", *HOSTILE_OPTIONS)
    assert proc.returncode == 0, proc.stderr + cluster.log_text()
    same_rows(local_out, tmp_path / "out")
    for name in WORKERS:  # the fork bomb's children and every sandbox are gone
        assert processes_with_tmpdir(cluster.folder / name / "dlkit-grade-") == []


def test_a_submission_whose_workers_die_twice_says_so_and_the_next_run_grades_it(cluster, tmp_path):
    root = tmp_path / "class"
    week_folder(root / "unlucky", {BASE: reference_with("import time\ntime.sleep(60)\n")})
    killer = Killer(cluster, times=2)
    killer.start()
    proc = dask_grade(cluster, root, tmp_path / "out", "--check-timeout", "5")
    killer.done.set()
    assert proc.returncode == 0, proc.stderr + cluster.log_text()
    assert len(killer.killed) == 2
    row = read_gradebook(tmp_path / "out")["unlucky"]
    assert row["status"] == "crashed" and row["total"] == "0"
    assert row["message"].startswith("worker lost twice: both Dask workers that took this submission ended"), row
    data = read_student(tmp_path / "out", "unlucky")
    assert data["extra_data"]["dlkit_grading"]["retry"] is True
    assert all("worker lost twice" in test["output"] for test in data["tests"])
    cluster.wait(lambda: len(cluster.worker_addresses()) == len(WORKERS), "the workers back")
    proc = dask_grade(cluster, root, tmp_path / "out", "--check-timeout", "5")  # no --regrade
    assert proc.returncode == 0, proc.stderr
    row = read_gradebook(tmp_path / "out")["unlucky"]
    assert row["status"] == "graded" and "still running at import after 5 s" in row["message"], row


def test_workers_without_the_weeks_data_stop_the_run_at_their_first_task(cluster, tmp_path):
    root = tmp_path / "class"
    for student in ("a", "b", "c", "d", "e"):
        shutil.copytree(KIT_ROOT / "assignments" / "week2", root / student / "week2")
    started = time.monotonic()
    proc = dask_grade(cluster, root, tmp_path / "out", week="week2")
    assert proc.returncode == 1, proc.stderr
    assert time.monotonic() - started < 120
    message = proc.stderr
    assert "stopped: the Dask worker tcp://" in message and f"has no mnist under {cluster.no_data}" in message
    assert "start it with DLKIT_DATA set to a folder that holds it" in message
    assert "Students finished so far are kept" in message
    assert not [p for p in (tmp_path / "out" / "students").iterdir() if not p.name.startswith(".")]


def test_a_worker_with_another_kit_is_named_with_both_versions():
    ticket = {"run": "r", "student": "s", "kit": "0.0.1+000000000000", "archive": b"", "pool": False,
              "options": options_to_data(GradeOptions("week1"))}
    reply = grade_ticket(ticket)
    assert reply["unfit"] == "kit" and reply["client_kit"] == "0.0.1+000000000000"
    said = render(unfit_message(reply), "en")
    assert f"has another dlkit ({kit_fingerprint()}) than this client (0.0.1+000000000000)" in said
    assert "install the same checkout on every worker" in said


def test_a_worker_without_the_kit_names_itself_and_the_fix(tmp_path):
    """The task is pickled by value: a Python where ``import dlkit`` fails still runs it and says why."""
    import cloudpickle

    from dlkit.grading import dask_entry

    cloudpickle.register_pickle_by_value(dask_entry)
    try:
        (tmp_path / "task.pkl").write_bytes(cloudpickle.dumps(dask_entry.grade_on_worker))
    finally:
        cloudpickle.unregister_pickle_by_value(dask_entry)
    script = ("import sys, pickle, json; sys.modules['dlkit'] = None\n"
              f"task = pickle.loads(open({str(tmp_path / 'task.pkl')!r}, 'rb').read())\n"
              "print(json.dumps(task({})))")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    reply = json.loads(proc.stdout)
    assert reply["unfit"] == "no_kit" and reply["python"] == sys.executable
    said = render(unfit_message(reply), "en")
    assert said.startswith(f"the Dask worker {reply['worker']} cannot import the kit (")
    assert "pip install -e '.[dask]'" in said


def test_a_scheduler_needs_the_dask_executor(tmp_path):
    (tmp_path / "class").mkdir()
    proc = grade_command(tmp_path / "class", tmp_path / "out", "--scheduler", "tcp://127.0.0.1:8786")
    assert proc.returncode == 2 and "--scheduler needs --executor dask" in proc.stderr


def test_a_bad_scheduler_address_is_a_usage_error(tmp_path):
    root = week_folder(tmp_path / "class" / "ada", {BASE: reference_with("")}).parent
    proc = grade_command(root, tmp_path / "out", "--executor", "dask", "--scheduler", "nonsense::")
    assert proc.returncode == 2
    assert "no Dask scheduler answered at nonsense:: (" in proc.stderr and "dask scheduler" in proc.stderr


def test_without_a_scheduler_a_local_cluster_grades_like_the_local_executor(graded, tmp_path):
    root, outs = graded
    shutil.copytree(root / "partial", tmp_path / "class" / "partial")
    proc = grade_command(tmp_path / "class", tmp_path / "out", "--executor", "dask", "--jobs", "1",
                         "--class-seed", str(CLASS_SEED))
    assert proc.returncode == 0, proc.stderr
    assert "on a local Dask cluster (1 worker)" in proc.stderr
    same_rows(outs[2], tmp_path / "out", ("partial",))
