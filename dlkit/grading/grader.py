"""The grading process of one submission in ``dlkit grade``: the checks and their verdicts, here;
the student's code, in a sandboxed worker (:mod:`.sandbox`) this process starts and talks to.

Started by the batch (:func:`.isolate.grade_copy`) as ``python -I -B -u -c "...main(config,
events)"``: the JSON config (read and closed at once) and an events file the batch opened (one JSON
line per check started and finished, so a grading process the batch had to stop still leaves its
finished checks). It runs the week's checks with pytest and the kit's plugin, with one more
plugin, :class:`BatchWorkers`, that starts every worker in the sandbox, watches its memory and
processes, keeps the submission's deadline, and records what happened to the workers; then the
feedback plots; then ``status.json`` (the row's status and what went wrong), beside the plugin's
``results.json``. No student code ever runs in this process: it reads what workers return, as plain data.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from dlkit.grading.outcome import CRASHED, GRADED, OUT_OF_MEMORY, TIMEOUT
from autograder.i18n import Said, _, set_language, to_data
from autograder.probe.client import Launched, wait_status_reason
from autograder.probe.launch import CappedOutput

UNSHARE_FLAGS = ("--mount", "--propagation", "private", "--net", "--pid", "--fork", "--kill-child", "--mount-proc")
"""What ``detect_isolation`` tries with the ``unshare`` command: the namespaces a worker's sandbox makes."""
SANDBOX_STARTS = 3
"""Tries to start a sandbox before the submission's grading stops (``unshare`` has been seen to fail
now and then with "sigprocmask unblock failed", before any student code ran)."""


def _write_event(stream: int, event: dict) -> None:
    """Append one JSON line with a single ``write`` so that an abrupt exit leaves whole lines."""
    os.write(stream, (json.dumps(event) + "\n").encode())


class SandboxError(Said, RuntimeError):
    """The sandbox could not be set up: a problem with the kit or the machine, not the student;
    ``message`` is an :mod:`autograder.i18n` message."""


class BatchWorkers:
    """pytest plugin: sandboxed workers, the deadline, the record (found by :func:`autograder.plugin.batch_plugin`)."""

    dlkit_batch = True

    def __init__(self, config: dict, events: int, zygote):
        self.config = config
        self.events = events
        self.zygote = zygote
        self.deadline = time.monotonic() + float(config["timeout_s"])
        self.starts = 0
        self.outputs: list[CappedOutput] = []
        self.sandbox_error = None
        """Why the sandbox could not be set up (a message), after :data:`SANDBOX_STARTS` tries."""
        self.config_obj = None
        self.sent = 0
        self.early: tuple[str, dict] | None = None
        """(folder, descriptors) of the worker asked for before the checks run (see :meth:`pytest_configure`)."""

    # ------------------------------------------------------------ workers

    def launcher(self, folder: Path, settings) -> Launched:
        failure = None
        for _attempt in range(SANDBOX_STARTS):
            try:
                return self._start(folder)
            except SandboxError as error:
                failure = error
        self.sandbox_error = failure.message
        raise failure

    def _sandbox(self, folder: Path | str) -> dict:
        return {**self.config["sandbox"], "cwd": str(folder), "device": self.config["device"]}

    def _start(self, folder: Path) -> Launched:
        from dlkit.grading.isolate import Members, proportional_bytes
        from autograder.probe.zygote import WorkerStartError, discard, launched

        config, limits = self.config, self.config["limits"]
        sandbox = self._sandbox(folder)
        namespaced = sandbox["isolation"] == "namespaces"
        early, self.early = self.early, None
        spawned = early[1] if early is not None and early[0] == str(folder) else None
        if early is not None and spawned is None:
            discard(early[1])
        memory_cap = (limits["memory_mb"] + limits["kit_memory_mb"]) * 1024 * 1024
        watching: dict[int, Members] = {}

        def watch(pid: int) -> str | None:
            members = watching.setdefault(pid, Members(pid, namespaced))
            alive = members.scan()
            resident = sum(size for _, size in alive)
            if resident > memory_cap:  # resident memory double-counts pages shared after fork: confirm with PSS
                resident = proportional_bytes([member for member, _ in alive])
            if len(alive) > limits["max_processes"]:
                return "processes"
            return "memory" if resident > memory_cap else None

        output = CappedOutput(limits["log_head_bytes"], limits["log_tail_bytes"])
        try:
            worker = launched(self.zygote, str(folder), config["threads"], env=config["worker_env"], sandbox=sandbox,
                              output=output, watch=watch, spawned=spawned)
        except WorkerStartError as error:
            raise SandboxError(_("the worker's sandbox could not be set up: {error}",
                                 error=getattr(error, "message", None) or str(error))) from None
        self.starts += 1
        self.outputs.append(output)
        return worker

    def describe_death(self, status: int | None, killed_for: str | None) -> tuple[str, str]:
        return wait_status_reason(status, killed_for, self.config["limits"])

    # ------------------------------------------------------------ the deadline and the record

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()

    def pytest_configure(self, config) -> None:
        """Ask for the submission's first worker now: its fork and sandbox overlap pytest's collection."""
        self.config_obj = config
        folder = str(Path(self.config["submission"]) / self.config["week"])
        try:
            self.early = folder, self.zygote.spawn(folder, self.config["threads"], self.config["worker_env"],
                                                   self._sandbox(folder))
        except (OSError, RuntimeError):
            self.early = None  # asked for again, with its retries, when the first check needs it

    def pytest_unconfigure(self, config) -> None:
        if self.early is not None:  # never needed
            from autograder.probe.zygote import discard

            discard(self.early[1])
            self.early = None

    def pytest_runtest_logstart(self, nodeid: str, location) -> None:
        if self.sent == 0 and not getattr(self, "_provenance_sent", False):
            from autograder import settings as settings_module
            from autograder.results import current_provenance

            s = settings_module.resolve(self.config_obj, Path(str(self.config_obj.invocation_params.dir)))
            _write_event(self.events, {"event": "ready",
                                       "provenance": asdict(current_provenance(s.device, s.profile, s.threads,
                                                                               s.class_seed))})
            self._provenance_sent = True
        _write_event(self.events, {"event": "start", "nodeid": nodeid})

    def pytest_runtest_logreport(self, report) -> None:
        from autograder.plugin import recorded_results

        results = recorded_results(self.config_obj)
        for result in results[self.sent:]:
            _write_event(self.events, {"event": "result", "nodeid": report.nodeid,
                                       "result": {**asdict(replace(result, message=None)),
                                                  "message": to_data(result.message)}})
        self.sent = len(results)


def _pytest_args(config: dict) -> list[str]:
    kit = Path(config["kit_root"])
    hidden = kit / "dlkit" / "hidden" / config["week"]
    args = [str(kit / "autograder" / config["week"]), *([str(hidden)] if hidden.is_dir() else []),
            "--rootdir", str(kit), "--confcutdir", str(kit / "autograder"),
            "-p", "autograder.plugin", "-p", "no:cacheprovider", "-s", "-q", "--color=no",
            "-W", "ignore::pytest.PytestAssertRewriteWarning",
            "--submission", config["submission"], "--results-json", config["results_json"],
            "--device", config["device"], "--profile", config["profile"], "--threads", str(config["threads"])]
    if config.get("lang"):  # the log and the rendered messages in the batch's language
        args += ["--lang", config["lang"]]
    if (kit / "pyproject.toml").is_file():  # the kit's own settings, never an ini file of the student's
        args += ["-c", str(kit / "pyproject.toml")]
    if config.get("data_root"):
        args += ["--data-root", config["data_root"]]
    if config.get("check_timeout"):
        args += ["--check-timeout", str(config["check_timeout"])]
    if config.get("class_seed") is not None:
        args += ["--class-seed", str(config["class_seed"])]
    return args


def status_of(batch: BatchWorkers, session) -> tuple[str, list]:
    """The row's status (the first thing that went wrong names it) and what went wrong, in order (messages)."""
    status, problems = GRADED, []
    if session is not None:
        at_import = [(death.kind, _("importing {file} {reason}", file=death.file, reason=death.reason))
                     for client in session.clients.values() for death in client.deaths if death.file]
        for kind, what in [*at_import, *session.problems]:
            problems.append(what)
            if status == GRADED:
                status = {"timeout": TIMEOUT, "out_of_memory": OUT_OF_MEMORY}.get(kind, CRASHED)
    return status, problems


def prepare() -> None:
    """What a grading process imports before it forks its workers' zygote: PyTorch, warmed up, on one
    thread (no OpenMP pool before a fork, see :mod:`autograder.probe.zygote`)."""
    import torch

    from autograder.probe.zygote import warm_up

    torch.set_num_threads(1)  # pytest sets the configured threads later, after the fork
    warm_up()
    freeze_heap()


def freeze_heap() -> None:
    """Leave what is imported now out of every later garbage collection: pytest collects five times at
    its end, and with PyTorch loaded each full pass over these objects took 0.3 s; forked children
    also keep more pages shared when the collector does not touch them."""
    import gc

    gc.collect()
    gc.freeze()


def main(config_fd: int, events_fd: int) -> None:
    """Grade one submission as configured by the batch, with a zygote of its own; never returns."""
    with os.fdopen(config_fd, "rb") as f:
        config = json.loads(f.read())
    from autograder.probe.zygote import Zygote

    prepare()  # before the fork: the zygote's workers start warm, and nothing of the checks is in them
    run_and_end(config, events_fd, Zygote())


def run_and_end(config: dict, events_fd: int, zygote) -> None:
    """:func:`run`, then end this process, whatever happened (its output flushed, ``zygote`` closed): exit
    status 0 when pytest ran a session, 3 when it could not."""
    ran = False
    try:
        ran = run(config, events_fd, zygote)
    finally:
        zygote.close()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0 if ran else 3)


def run(config: dict, events_fd: int, zygote) -> bool:
    """Run the checks of one submission (``zygote`` forks its workers) and write ``status.json``; returns
    whether pytest ran a session."""
    import pytest

    import autograder.plugin as plugin

    if config.get("lang"):
        set_language(config["lang"])
    batch = BatchWorkers(config, events_fd, zygote)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the kit's plugin only: no third-party plugin reorders,
    code = pytest.main(_pytest_args(config), plugins=[batch])  # retries or slows checks
    session = plugin.last_session
    status, problems = status_of(batch, session)
    plots = []
    if config.get("plots") and session is not None:
        from dlkit.grading.plots import make_plots

        plots = make_plots(config["week"], Path(config["submission"]), Path(config["plots_dir"]), config["profile"],
                           config["limits"]["plot_seconds"], lambda folder: batch.launcher(folder, None),
                           batch.describe_death)
    plots = [{**plot, **{key: to_data(plot[key]) for key in ("title", "error") if key in plot}} for plot in plots]
    record = {"status": status, "problems": [to_data(problem) for problem in problems], "attempts": batch.starts,
              "plots": plots, "sandbox_error": to_data(batch.sandbox_error),
              "collected": session is not None and bool(session.results), "pytest_exit": int(code)}
    Path(config["status_json"]).write_text(json.dumps(record))
    return session is not None
