"""A warm pool for ``dlkit grade``: the cost of one more submission is its checks, not start-up.

Without it, each submission starts a fresh Python that imports PyTorch, pytest, the checks and
the reference (seconds), and forks its workers' zygote. With it, the batch starts one *pool
server* per class: a process that imports and warms all of that once, forks one zygote for every
worker of the class (PyTorch and the worker's runtime only: never a check, a key or the reference),
and then forks a grading process for each submission (copy-on-write: nothing to import). A grading
process grades one submission and ends; its workers are forked from the shared zygote, sandboxed
after the fork, and never serve another submission.

Requests go over a Unix socket (:class:`autograder.probe.zygote.Zygote`'s protocol): the grading
process's config and its descriptors (its output, the batch's events file, its status pipe, where
the server writes ``exit <wait status>`` when it ends).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

from autograder.probe.launch import KIT_PARENT
from autograder.probe.zygote import ask, close_connection


class GraderPool:
    """The batch's handle on the pool server of one week (see the module docstring)."""

    def __init__(self, week: str, env: dict[str, str] | None = None):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        boot = (f"import sys; sys.path.insert(0, {str(KIT_PARENT)!r}); "
                f"from dlkit.grading.pool import serve; serve({theirs.fileno()}, {week!r})")
        self.process = subprocess.Popen([sys.executable, "-I", "-B", "-u", "-c", boot], pass_fds=(theirs.fileno(),),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env,
                                        start_new_session=True)
        theirs.close()
        self.socket = ours
        self.reader = ours.makefile("rb")
        self.asking = threading.Lock()  # one request and its reply at a time: the batch's jobs share the socket

    def grade(self, config: dict, output: int, events: int) -> tuple[int, int]:
        """Fork a grading process for ``config``; returns its pid and the read end of its status pipe.
        ``output`` and ``events`` are the descriptors it writes its output and its events to."""
        status_r, status_w = os.pipe()
        try:
            with self.asking:
                pid = ask(self.socket, self.reader, {"config": config}, [os.dup(output), os.dup(events), status_w])
        except BaseException:
            os.close(status_r)
            raise
        return pid, status_r

    def close(self) -> None:
        """End the server (the end of its socket is its signal) and wait for it."""
        close_connection(self.socket, self.reader)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _import_checks(week: str) -> None:
    """Import the week's check modules (hidden ones too), reference and oracle modules, so a forked grading process finds them
    imported (pytest reuses a module already in ``sys.modules`` in importlib mode)."""
    import importlib

    import autograder.plugin  # noqa: F401
    from dlkit.reference import load_reference
    from autograder.settings import KIT_ROOT
    from autograder.spec import load_spec

    for package in ("autograder", "dlkit.hidden"):
        for path in sorted(KIT_ROOT.joinpath(*package.split("."), week).glob("test_*.py")):
            importlib.import_module(f"{package}.{week}.{path.stem}")
    for exercise in load_spec().get(week, {}):
        try:
            load_reference(week, exercise)
            importlib.import_module(f"dlkit.oracles.{week}.{exercise}")
        except Exception:  # noqa: BLE001 - a reference that does not import is the checks' to report
            pass


def serve(fd: int, week: str) -> None:
    """The pool server: warm up, fork the workers' zygote, import the checks, then fork a grading process
    per request; never returns."""
    from dlkit.grading.grader import freeze_heap, prepare
    from autograder.probe.zygote import Zygote, _serve

    control = socket.socket(fileno=fd)
    prepare()
    workers = Zygote(listen=True)  # forked now: PyTorch and the worker's runtime, nothing of the checks
    _import_checks(week)
    freeze_heap()
    try:
        _serve(control, None, None, lambda message, fds: _become_grader(message, fds, workers.address),
               keep=(workers.socket.fileno(),))
    finally:
        workers.close()
        os._exit(0)


def _become_grader(message: dict, fds: list[int], zygote_address: str) -> None:
    """In the forked grading process: its own session and output; grade the submission; end."""
    output, events, status = fds
    os.close(status)  # the server reports this process's end; nothing here writes to it
    os.setsid()
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    from dlkit.grading.grader import run_and_end
    from autograder.probe.zygote import ZygoteClient, _die_with_parent

    _die_with_parent()
    config = message["config"]
    os.chdir(Path(config["status_json"]).parent)
    run_and_end(config, events, ZygoteClient(zygote_address))
