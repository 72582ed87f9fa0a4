"""Starting a worker process on a student's folder (see :mod:`.worker`).

:func:`spawn` starts a fresh Python (``python -I``: neither the student's folder nor
``PYTHONPATH`` is on its path, so a student's ``torch.py`` cannot shadow PyTorch) with two pipes
for requests and replies and one for its output, which a thread keeps, head and tail, within
:class:`CappedOutput`'s bounds. ``prefix`` runs it under another command (``unshare ...`` for the
sandbox); ``watch`` is polled while it runs and may stop it (memory, processes).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

from autograder.i18n import _, render
from autograder.probe.client import Launched
from autograder.probe.zygote import _existing

KIT_PARENT = Path(__file__).resolve().parents[2]


class CappedOutput:
    """Keeps the first ``head`` and the last ``tail`` bytes of a stream and counts the rest; what
    arrived since the last :meth:`take` is handed out once, within the same bounds."""

    def __init__(self, head: int = 200_000, tail: int = 50_000):
        self.head, self.tail = bytearray(), bytearray()
        self.head_max, self.tail_max = head, tail
        self.dropped = 0
        self.fresh = bytearray()
        self.fresh_dropped = 0
        self.lock = threading.Lock()

    def add(self, chunk: bytes) -> None:
        with self.lock:
            room = self.head_max - len(self.head)
            rest = chunk
            if room > 0:
                self.head += rest[:room]
                rest = rest[room:]
            if rest:
                self.tail += rest
                excess = len(self.tail) - self.tail_max
                if excess > 0:
                    del self.tail[:excess]
                    self.dropped += excess
            self.fresh += chunk
            excess = len(self.fresh) - (self.head_max + self.tail_max)
            if excess > 0:
                del self.fresh[:excess]
                self.fresh_dropped += excess

    def take(self) -> str:
        """What arrived since the last call (its start cut when it was very long)."""
        with self.lock:
            text = bytes(self.fresh).decode("utf-8", "replace")
            if self.fresh_dropped:
                text = render(_("[... {n} bytes of output left out ...]", n=self.fresh_dropped)) + "\n" + text
            self.fresh.clear()
            self.fresh_dropped = 0
        return text

    def text(self) -> str:
        """All of it, head and tail."""
        with self.lock:
            middle = "\n" + render(_("[... {n} bytes of output left out ...]", n=self.dropped)) + "\n" if self.dropped else ""
            return (bytes(self.head) + middle.encode() + bytes(self.tail)).decode("utf-8", "replace")


def drain(fd: int, sink: CappedOutput) -> None:
    """Copy what ``fd`` delivers into ``sink`` until it closes."""
    try:
        while chunk := os.read(fd, 1 << 16):
            sink.add(chunk)
    except OSError:
        pass
    finally:
        os.close(fd)


def watch_in_thread(alive: Callable[[], bool], watch: Callable[[int], str | None], pid: int,
                    kill: Callable[[], None], killed: list[str]) -> None:
    """Poll ``watch(pid)`` every 0.1 s while ``alive()``; the first reason it gives is recorded in
    ``killed`` and the worker stopped with ``kill()`` (memory, processes)."""
    def watchdog() -> None:
        while alive():
            why = watch(pid)
            if why:
                killed.append(why)
                kill()
                return
            time.sleep(0.1)

    threading.Thread(target=watchdog, daemon=True, name="dlkit-worker-watch").start()


def worker_boot(requests: int, replies: int, folder: Path, threads: int) -> str:
    """The ``python -c`` program that runs the worker on ``folder``."""
    return (f"import sys; sys.path.insert(0, {str(KIT_PARENT)!r}); "
            f"from autograder.probe.worker import main; main({requests}, {replies}, {str(folder)!r}, {threads})")


def spawn(folder: Path, threads: int = 1, env: dict[str, str] | None = None, prefix: Sequence[str] = (),
          output: CappedOutput | None = None, watch: Callable[[int], str | None] | None = None) -> Launched:
    """Start a worker on ``folder`` (the student's week folder, also its working directory)."""
    request_r, request_w = os.pipe()
    reply_r, reply_w = os.pipe()
    output_r, output_w = os.pipe()
    output = output or CappedOutput()
    command = [*prefix, sys.executable, "-I", "-B", "-u", "-c", worker_boot(request_r, reply_w, folder, threads)]
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output_w, stderr=output_w,
                                   pass_fds=(request_r, reply_w), cwd=_existing(str(folder)), env=env,
                                   start_new_session=True)
    finally:
        for fd in (request_r, reply_w, output_w):
            os.close(fd)
    threading.Thread(target=drain, args=(output_r, output), daemon=True, name="dlkit-worker-output").start()
    killed: list[str] = []

    def kill() -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(seconds: float | None) -> int | None:
        try:
            return process.wait(seconds)
        except subprocess.TimeoutExpired:
            return None

    if watch is not None:
        watch_in_thread(lambda: process.poll() is None, watch, process.pid, kill, killed)

    return Launched(pid=process.pid, requests=request_w, replies=reply_r, wait=wait, kill=kill,
                    killed_for=lambda: killed[0] if killed else None, output=output.take,
                    extra={"process": process, "log": output})
