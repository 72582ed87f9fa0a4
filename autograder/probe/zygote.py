"""Workers forked from a warm process, so a new one starts in milliseconds instead of seconds.

The grading process forks a :class:`Zygote` early, before it imports any check or reference:
the zygote holds PyTorch and the worker's runtime, already imported and warmed up (an optimizer
step imports a second of PyTorch's internals the first time), and nothing else. For each worker
the grading process asks for, the zygote forks a child that becomes the worker (copy-on-write: the
imports are shared), after it has applied the worker's environment and, in ``dlkit grade``, its
sandbox (:func:`dlkit.grading.sandbox.enter`). The worker that served one submission never
serves another.

Requests go over a Unix socket: a JSON line and, alongside, the file descriptors the new worker
gets (requests, replies, output, status). The zygote reaps its children and writes each one's
wait status to that worker's status pipe (``exit <wait status>``); the worker itself writes
``ready`` there once it serves. CUDA must not be initialised before a fork: the zygote never
touches it, and a worker initialises it after the fork, if the checks run on a GPU. Neither may
OpenMP's thread pool be: the zygote and, in ``dlkit grade``, the grading process before it forks
the zygote, run PyTorch on one thread; each worker sets its own number of threads after the fork.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
from typing import Any

from autograder.probe.client import Launched
from autograder.i18n import Said


def warm_up() -> None:
    """Import what every worker needs, and run what imports more the first time (an optimizer step)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import PIL.Image  # noqa: F401
    import torch
    import torch.nn.functional  # noqa: F401
    import torchvision.transforms  # noqa: F401

    import autograder.batches  # noqa: F401
    import autograder.probe.instruments  # noqa: F401
    import autograder.probe.worker  # noqa: F401

    model = torch.nn.Linear(2, 2)
    for optimizer in (torch.optim.Adam(model.parameters(), lr=0.1), torch.optim.SGD(model.parameters(), lr=0.1)):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(torch.randn(3, 2)), torch.tensor([0, 1, 0])).backward()
        optimizer.step()


class Zygote:
    """A forked process that forks workers on request; see the module docstring.

    With ``listen``, other processes (the grading processes of a pool, forked after this one) connect to
    :attr:`address` with :class:`ZygoteClient`; otherwise only this process asks, through :meth:`spawn`.
    """

    def __init__(self, prepare=None, listen: bool = False):
        """Fork the zygote; ``prepare()`` runs in it first (:func:`warm_up`, when this process is not warm yet)."""
        self.address = None
        listener = None
        if listen:
            import tempfile

            folder = tempfile.mkdtemp(prefix="dlkit-zygote-")
            self.address = os.path.join(folder, "socket")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(self.address)
            os.chmod(self.address, 0o600)
            listener.listen(64)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:  # the zygote
            ours.close()
            try:
                _serve(theirs, listener, prepare, _become_worker)
            finally:
                os._exit(0)
        theirs.close()
        if listener is not None:
            listener.close()
        self.pid = pid
        self.socket = ours
        self.reader = ours.makefile("rb")

    def spawn(self, folder: str, threads: int, env: dict[str, str] | None = None, sandbox: dict | None = None,
              extra: dict | None = None) -> dict:
        """Fork a worker on ``folder``; returns ``{"pid": ..., "requests": fd, "replies": fd, "output": fd,
        "status": fd}`` (the ends this process keeps)."""
        return spawn_worker(self.socket, self.reader, folder, threads, env, sandbox, extra)

    def close(self) -> None:
        try:
            close_connection(self.socket, self.reader)
        finally:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ChildProcessError, ProcessLookupError):
                pass
            if self.address:
                for remove in (lambda: os.unlink(self.address), lambda: os.rmdir(os.path.dirname(self.address))):
                    try:
                        remove()
                    except OSError:
                        pass


class ZygoteClient:
    """A connection of another process to a listening :class:`Zygote` (``Zygote(listen=True).address``)."""

    def __init__(self, address: str):
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.socket.connect(address)
        self.reader = self.socket.makefile("rb")

    def spawn(self, folder: str, threads: int, env: dict[str, str] | None = None, sandbox: dict | None = None,
              extra: dict | None = None) -> dict:
        return spawn_worker(self.socket, self.reader, folder, threads, env, sandbox, extra)

    def close(self) -> None:
        close_connection(self.socket, self.reader)


def close_connection(sock: socket.socket, reader) -> None:
    """Close a connection for good: ``socket.close`` alone leaves the descriptor open while ``reader``
    (its ``makefile``) is, and the other side would wait for an end that never comes."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # the other side is gone already
    reader.close()
    sock.close()


def ask(sock: socket.socket, reader, message: dict, fds: list[int]) -> int:
    """Send one request (``message`` and the descriptors the child gets) and return the child's pid;
    the descriptors are closed here once sent."""
    try:
        socket.send_fds(sock, [json.dumps(message).encode() + b"\n"], fds)
    finally:
        for fd in fds:
            os.close(fd)
    line = reader.readline()
    if not line:
        raise RuntimeError("the zygote that starts workers has ended")
    return int(json.loads(line)["pid"])


def spawn_worker(sock: socket.socket, reader, folder: str, threads: int, env: dict[str, str] | None,
                 sandbox: dict | None, extra: dict | None) -> dict:
    request_r, request_w = os.pipe()
    reply_r, reply_w = os.pipe()
    output_r, output_w = os.pipe()
    status_r, status_w = os.pipe()
    message = {"folder": folder, "threads": threads, "env": env, "sandbox": sandbox, "extra": extra or {}}
    try:
        pid = ask(sock, reader, message, [request_r, reply_w, output_w, status_w])
    except BaseException:
        for fd in (request_w, reply_r, output_r, status_r):
            os.close(fd)
        raise
    return {"pid": pid, "requests": request_w, "replies": reply_r, "output": output_r, "status": status_r}


def discard(spawned: dict) -> None:
    """Stop a worker asked for but never used, and close the kit's ends of its pipes."""
    _kill_worker(spawned["pid"])
    for name in ("requests", "replies", "output", "status"):
        try:
            os.close(spawned[name])
        except OSError:
            pass


def _kill_worker(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


def _serve(sock: socket.socket, listener: socket.socket | None, prepare, become, keep: tuple[int, ...] = ()) -> None:
    """The zygote's loop: fork a child per request, reap them, report their ends (each request's last
    descriptor is the child's status pipe: the zygote writes ``exit <wait status>`` there)."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    _close_all_but({sock.fileno(), 0, 1, 2, *keep, *([listener.fileno()] if listener is not None else [])})
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grading process's to handle
    _die_with_parent()
    import torch

    torch.set_num_threads(1)  # no OpenMP pool here: one made before a fork hangs the child's first parallel op
    if prepare is not None:
        prepare()
    status_fds: dict[int, int] = {}
    connections = [sock]
    child_ended = _wake_on_child_end()
    while True:
        ready, _, _ = select.select([*connections, *([listener] if listener is not None else []), child_ended],
                                    [], [], 1.0)
        _reap(status_fds)
        for connection in ready:
            if connection is child_ended:
                while _read_some(child_ended):
                    pass
                continue
            if connection is listener:
                accepted, _ = listener.accept()
                connections.append(accepted)
                continue
            message, fds = _receive(connection)
            if message is None:
                connections.remove(connection)
                connection.close()
                if connection is sock:  # the process that made the zygote is gone
                    for fd in status_fds.values():
                        os.close(fd)
                    return
                continue
            pid = os.fork()
            if pid == 0:
                os.close(signal.set_wakeup_fd(-1))
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.close(child_ended)
                for other in connections:
                    other.close()
                if listener is not None:
                    listener.close()
                for fd in [*status_fds.values(), *keep]:
                    os.close(fd)
                become(message, fds)
                os._exit(70)
            for fd in fds[:-1]:
                os.close(fd)
            status_fds[pid] = fds[-1]
            connection.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def _die_with_parent() -> None:
    """SIGKILL this process when its parent ends (Linux; elsewhere the closed socket ends the zygote)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _receive(sock: socket.socket) -> tuple[dict | None, list[int]]:
    data, fds, _, _ = socket.recv_fds(sock, 1 << 20, 8)
    if not data:
        return None, []
    while not data.endswith(b"\n"):
        more = sock.recv(1 << 20)
        if not more:
            return None, []
        data += more
    return json.loads(data), list(fds)


def _wake_on_child_end() -> int:
    """A descriptor that becomes readable when a child ends (SIGCHLD through the wake-up fd), so that its
    end is reported at once rather than at the loop's next timeout."""
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    os.set_blocking(write_end, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a Python handler, so the wake-up fd gets the signal
    signal.set_wakeup_fd(write_end)
    return read_end


def _read_some(fd: int) -> bytes:
    try:
        return os.read(fd, 512)
    except BlockingIOError:
        return b""


def _reap(status_fds: dict[int, int]) -> None:
    while True:
        try:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        fd = status_fds.pop(pid, None)
        if fd is not None:
            try:
                os.write(fd, f"exit {wait_status}\n".encode())
            except OSError:
                pass
            os.close(fd)


def _close_all_but(keep: set[int]) -> None:
    for fd in _open_fds():
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _open_fds() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 1024))


def _become_worker(message: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: its own session, its output pipe, its environment and (maybe) its sandbox; serve."""
    requests, replies, output, status = fds
    try:
        os.setsid()
        _die_with_parent()
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
        sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if message.get("env") is not None:
            os.environ.clear()
            os.environ.update(message["env"])
        folder = message["folder"]
        sandbox = message.get("sandbox")
        if sandbox:
            from dlkit.grading.sandbox import enter

            enter(sandbox, status, keep=(requests, replies, status))  # returns in the worker, PID 2 of its namespace
        else:
            os.chdir(_existing(folder))
        import torch

        from autograder.probe.worker import Worker, serve

        torch.set_num_threads(max(1, int(message["threads"])))
        worker = Worker(folder)
        os.write(status, b"ready\n")
        os.close(status)
    except BaseException as error:  # noqa: BLE001 - nothing of the student's has run: the kit's problem, reported
        try:
            os.write(status, f"error {type(error).__name__}: {error}\n".replace("\n", " ").encode() + b"\n")
        except OSError:
            pass
        os._exit(70)
    try:
        serve(worker, requests, replies)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(0)


def _existing(folder: str) -> str:
    """``folder``, or its nearest existing parent (a submission may lack the week's folder: its files are
    then "missing", which the worker says when asked for them)."""
    path = os.path.abspath(folder)
    while not os.path.isdir(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


class WorkerStartError(Said, RuntimeError):
    """A worker could not be made ready (before any student code ran): the kit's or the machine's problem;
    ``message`` (an :mod:`autograder.i18n` message) says why."""


def launched(zygote: Zygote, folder: str, threads: int, env: dict[str, str] | None = None,
             sandbox: dict | None = None, output=None, watch=None, spawned: dict | None = None) -> Launched:
    """A worker forked by ``zygote``, as the client uses it; ``output`` keeps what it prints
    (a :class:`~autograder.probe.launch.CappedOutput`); ``watch(pid)`` may stop it (memory, processes).
    ``spawned``: what ``zygote.spawn`` returned for it earlier, when it was asked for ahead of need."""
    import threading

    from autograder.probe.launch import CappedOutput, drain, watch_in_thread
    from autograder.probe.status import StatusPipe

    fds = spawned if spawned is not None else zygote.spawn(folder, threads, env, sandbox)
    output = output if output is not None else CappedOutput()
    threading.Thread(target=drain, args=(fds["output"], output), daemon=True, name="dlkit-worker-output").start()
    status = StatusPipe(fds["status"])
    pid = fds["pid"]
    killed: list[str] = []
    first = status.first_line(timeout=300)
    if first != "ready":
        _kill_worker(pid)
        for fd in (fds["requests"], fds["replies"]):
            os.close(fd)
        from autograder.i18n import _

        why = first.removeprefix("error ") if first else _("it ended before it was ready")
        log = output.text()[-2000:].rstrip()
        raise WorkerStartError(_("a worker could not be started: {why}\n{log}", why=why, log=log) if log else
                               _("a worker could not be started: {why}", why=why))

    def kill() -> None:
        _kill_worker(pid)

    def wait(seconds: float | None) -> int | None:
        line = status.line_starting("exit ", timeout=seconds)
        return os.waitstatus_to_exitcode(int(line)) if line is not None else None

    if watch is not None:
        watch_in_thread(lambda: not status.done.is_set(), watch, pid, kill, killed)
    return Launched(pid=pid, requests=fds["requests"], replies=fds["replies"], wait=wait, kill=kill,
                    killed_for=lambda: killed[0] if killed else None, output=output.take,
                    extra={"status": status, "log": output})
