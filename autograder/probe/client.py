"""The grading process's side of the worker: requests out, plain data back, and proxies for what
stays in the worker.

``client.student("spiral.py")`` imports the student's file in the worker and returns a
:class:`Remote` for it. Calling a ``Remote`` (``student.make_spiral(n_per_class=10)``) or reading
one of its attributes is one request; the answer comes back by value when it is plain data
(numbers, strings, tensors, lists, tuples and dicts of them) and as another ``Remote`` otherwise
(a model, a transform, an Axes). What a check decides, it decides here, from those values.

Failures come back as exceptions of this process:

- :class:`StudentRaised`: the student's code raised (type, message, the student's own frames);
- :class:`ImportFailed`: the student's file could not be imported (said again, at once, by every
  later request for it);
- :class:`WorkerDied`: the worker process ended during the request (a segfault, ``os._exit``, the
  memory or process limit); the next request starts a fresh worker;
- the check's own time limit (:class:`~autograder.timeout.CheckTimeout`), raised here while
  waiting: the worker is then stopped, since it is busy with code that does not return.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from autograder.i18n import Said, _, render
from autograder.probe import wire
from autograder.timeout import CheckTimeout, current_clock

GRACE_SECONDS = 2.0
"""How long after its own timer the worker gets to report where it was, before it is stopped."""


class RemoteError(Exception):
    """Something failed in the worker; ``info`` is the worker's description (see ``Worker.error_info``)."""

    def __init__(self, info: dict):
        super().__init__(str(info.get("message", "")))
        self.info = info

    @property
    def type_name(self) -> str:
        return str(self.info.get("type", "Exception"))

    @property
    def message(self) -> str:
        return str(self.info.get("message", ""))

    @property
    def frames(self) -> list[dict]:
        """The student's own frames, outermost first: ``{"file", "line", "name", "qualname", "source"}``."""
        frames = self.info.get("frames")
        return frames if isinstance(frames, list) else []

    @property
    def not_implemented(self) -> bool:
        return self.info.get("not_implemented") is True

    @property
    def timed_out(self) -> bool:
        return self.info.get("timeout") is True


class StudentRaised(RemoteError):
    """The student's code raised while the worker ran it."""


class ImportFailed(RemoteError):
    """The student's file is missing or could not be imported (``info["kind"]``: ``missing``, ``import``,
    ``died``: the import ended the worker, ``timeout``: it was still running at the check's limit)."""


class WorkerDied(Exception):
    """The worker ended while answering; ``reason`` says how, for the student ("crashed with a
    segmentation fault (SIGSEGV)"): an :mod:`autograder.i18n` message whose subject is the grading
    process (``_("the grading process {reason}", reason=...)``)."""

    def __init__(self, reason, kind: str = "crashed"):
        super().__init__(reason, kind)
        self.reason = reason
        self.message = _("the grading process {reason}", reason=reason)
        """The reason as a sentence."""
        self.kind = kind
        """``crashed`` or ``out_of_memory``."""
        self.file: str | None = None
        """The student file being imported when it ended, if it was an import."""

    def __str__(self) -> str:
        return render(self.reason)


class ProtocolError(Said, Exception):
    """The worker's reply was not a reply to the request (something wrote on the kit's channel);
    ``message`` (an :mod:`autograder.i18n` message) says so to the student."""


@dataclass
class Launched:
    """A started worker process, as the client needs it."""

    pid: int
    requests: int
    """Write end of the request channel."""
    replies: int
    """Read end of the reply channel."""
    wait: Callable[[float | None], int | None]
    """``wait(seconds)``: the exit status (negative: the signal) or ``None`` if still running."""
    kill: Callable[[], None]
    """Stop the worker and everything it started."""
    killed_for: Callable[[], str | None] = lambda: None
    """Why a watchdog stopped it (``"memory"``, ``"processes"``), if one did."""
    output: Callable[[], str] = lambda: ""
    """The worker's stdout and stderr since the last call."""
    extra: dict = field(default_factory=dict)


Launcher = Callable[[], Launched]
"""Starts a worker for the submission the client was made for."""


class WorkerClient:
    """One submission's worker, restarted after a crash; every request goes through :meth:`request`."""

    def __init__(self, launcher: Launcher, describe_death: Callable[[int | None, str | None], tuple[str, str]],
                 on_output: Callable[[str], None] | None = None):
        self.launcher = launcher
        self.describe_death = describe_death
        self.on_output = on_output
        self.process: Launched | None = None
        self.generation = 0
        self.next_id = 1
        self.starts = 0
        self.failed_imports: dict[str, dict] = {}
        """File -> the description of its import that failed: the file is never imported again."""
        self.student_modules: dict[str, Remote] = {}
        self.created: list[int] = []
        self.pending_seed: int | None = None
        """Seed to send before the next request (the running check's seed, for the student's own randomness)."""
        self.deaths: list[WorkerDied] = []
        """Every time the worker ended while answering."""

    # ------------------------------------------------------------ process

    def _ensure(self) -> Launched:
        if self.process is None:
            clock = current_clock()
            with clock.paused() if clock is not None else contextlib.nullcontext():  # not the student's time
                self.process = self.launcher()
            self.generation += 1
            self.starts += 1
            self.student_modules.clear()
            self.created.clear()
        return self.process

    def _flush_output(self) -> None:
        if self.process is not None:
            self._flush_output_of(self.process)

    def _flush_output_of(self, process: Launched) -> None:
        if self.on_output is not None:
            text = process.output()
            if text:
                self.on_output(text)

    def _release(self, process: Launched) -> None:
        """What is left of an ended worker: its last output, and the kit's ends of its channel."""
        self._flush_output_of(process)
        for fd in (process.requests, process.replies):
            try:
                os.close(fd)
            except OSError:
                pass

    def stop(self) -> None:
        """Stop the worker (the next request starts a fresh one)."""
        if self.process is not None:
            process, self.process = self.process, None
            process.kill()
            process.wait(5)
            self._release(process)

    def close(self) -> None:
        """Say goodbye and stop the worker."""
        if self.process is not None:
            try:
                wire.send(self.process.requests, {"id": 0, "op": "bye"}, [])
            except OSError:
                pass
            if self.process.wait(2) is None:
                pass
            self.stop()

    # ------------------------------------------------------------ requests

    def request(self, op: str, *, keep: bool = False, **fields: Any) -> Any:
        """Send one request and return its decoded answer (see the module docstring for failures)."""
        process = self._ensure()
        if self.pending_seed is not None and op != "seed":
            seed, self.pending_seed = self.pending_seed, None
            self.request("seed", seed=seed)
        number = self.next_id
        self.next_id += 1
        buffers: list[bytes] = []
        header = {"id": number, "op": op, "keep": keep}
        for key, value in fields.items():
            header[key] = wire.encode(value, buffers, self._outgoing_handle) if key in _VALUE_FIELDS else value
        clock = current_clock()
        soft = None
        if clock is not None and clock.seconds:
            soft = max(0.05, clock.left - GRACE_SECONDS) if clock.left > GRACE_SECONDS + 0.05 else max(0.05, clock.left / 2)
            header["seconds"] = soft
        try:
            wire.send(process.requests, header, buffers)
            reply, reply_buffers = wire.receive(process.replies, self._read)
        except (wire.ChannelClosed, BrokenPipeError, ConnectionResetError):
            raise self._died() from None
        except CheckTimeout:
            self.stop()
            raise
        except wire.WireError as error:
            self.stop()
            raise ProtocolError(_("the kit's channel to your code received something that is not the kit's "
                                  "({error}): does your code write to a file descriptor it did not open?",
                                  error=str(error))) from None
        finally:
            self._flush_output()
        if not isinstance(reply, dict) or reply.get("id") != number:
            self.stop()
            raise ProtocolError(_("the worker sent a reply that was not an answer to the kit's request "
                                  "(did your code write to the kit's channel?)"))
        if "error" in reply:
            info = reply["error"] if isinstance(reply["error"], dict) else {"message": str(reply["error"])}
            for frame in info.get("frames") or []:  # the model a frame was running, as a Remote
                owner = frame.get("self") if isinstance(frame, dict) else None
                if isinstance(owner, dict) and isinstance(owner.get("id"), int):
                    frame["self"] = self._incoming_handle(owner)
            if info.get("kind") in ("missing", "import"):
                raise ImportFailed(info)
            raise StudentRaised(info)
        try:
            return wire.decode(reply.get("ok"), reply_buffers, self._incoming_handle)
        except wire.WireError as error:
            self.stop()
            raise ProtocolError(_("the worker sent a value the kit cannot read ({error})", error=str(error))) from None

    def _read(self, fd: int, n: int) -> bytes:
        """Exactly ``n`` bytes; waits in ``select`` so the check's alarm can interrupt the wait."""
        chunks, left = [], n
        while left:
            select.select([fd], [], [])
            chunk = os.read(fd, min(left, 1 << 24))
            if not chunk:
                raise wire.ChannelClosed()
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _died(self) -> WorkerDied:
        process = self.process
        self.process = None
        status = process.wait(5) if process is not None else None
        if status is None and process is not None:
            process.kill()
            status = process.wait(5)
        why = process.killed_for() if process is not None else None
        if process is not None:
            self._release(process)
        reason, kind = self.describe_death(status, why)
        died = WorkerDied(reason, kind)
        self.deaths.append(died)
        return died

    def _outgoing_handle(self, value: Any) -> dict:
        if isinstance(value, Remote):
            if value._generation != self.generation:
                raise StaleRemote(value._label)
            return {"$": "handle", "id": value._handle}
        raise wire.WireError(f"cannot send a {type(value).__module__}.{type(value).__qualname__} to the worker "
                             "(send a model with client.build)")

    def _incoming_handle(self, data: dict) -> "Remote":
        self.created.append(data["id"])
        info = data.get("type") if isinstance(data.get("type"), dict) else {}
        return Remote(self, data["id"], info, str(info.get("name", "object")))

    # ------------------------------------------------------------ conveniences

    def student(self, file: str) -> "Remote":
        """The student's ``file`` (e.g. ``"spiral.py"``), imported once per worker; an import that
        failed is said again at once, without another try."""
        if file in self.failed_imports:
            raise ImportFailed(self.failed_imports[file])
        if file in self.student_modules and self.process is not None:
            return self.student_modules[file]
        try:
            module = self.request("import", file=file)
        except ImportFailed as failed:
            clock = current_clock()
            if failed.timed_out and clock is not None and clock.seconds:
                failed.info["seconds"] = clock.seconds
            self.failed_imports[file] = failed.info
            raise
        except WorkerDied as died:
            died.file = file
            self.failed_imports[file] = {"kind": "died", "file": file, "message": render(died.reason),
                                         "reason": render(died.reason), "why": died.reason}
            raise ImportFailed(self.failed_imports[file]) from None
        except CheckTimeout as timeout:
            self.failed_imports[file] = {"kind": "timeout", "file": file, "message": str(timeout),
                                         "seconds": timeout.seconds}
            raise
        module._label = Path(file).stem
        self.created.remove(module._handle)  # pinned in the worker for as long as it lives
        self.student_modules[file] = module
        return module

    def module(self, name: str) -> "Remote":
        """A library or kit module imported in the worker (``"torch"``, ``"torch.nn.functional"``)."""
        remote = self.request("module", name=name)
        remote._label = name
        return remote

    def build(self, model: Any, skeleton: bool = False) -> "Remote":
        """A copy of this process's ``model`` in the worker, on the same device: ``torch.nn`` layers
        (with ``skeleton``, any class: the same parameters and buffers, no ``forward``)."""
        from autograder.probe import modules

        parameter = next(iter(model.state_dict().values()), None)
        device = str(parameter.device) if parameter is not None else "cpu"
        return self.request("build", spec=modules.describe(model), state=model.state_dict(), skeleton=skeleton,
                            device=device)

    def seed(self, seed: int) -> None:
        self.request("seed", seed=seed)

    def release_created(self) -> None:
        """Let the worker drop every object handed out since the last call (the end of a check)."""
        if self.created and self.process is not None:
            numbers, self.created = self.created, []
            try:
                self.request("release", ids=numbers)
            except (WorkerDied, ProtocolError, StudentRaised):
                pass


MISSING = type("Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda self: False})()
"""What :meth:`Remote.get` returns for an attribute the object does not have."""

_VALUE_FIELDS = {"target", "args", "kwargs", "spec", "state"}


class StaleRemote(RuntimeError):
    """A ``Remote`` from a worker that has since been restarted."""

    def __init__(self, label: str):
        super().__init__(label)  # the constructor's own arguments: a pickled copy is rebuilt from them
        self.label = label
        self.message = _("{label} belonged to a worker that has ended", label=label)

    def __str__(self) -> str:
        return render(self.message)


class Remote:
    """An object that lives in the worker: attributes and calls are requests.

    ``remote.keep(*args)`` calls it but keeps even a plain result (a tensor) in the worker;
    ``remote.describe(kind)`` asks for a description (``"module"``, ``"transform"``, ``"axes"``).
    ``remote.kind`` is what the worker says the object is (for messages and for choosing what to
    ask next; never evidence).
    """

    __slots__ = ("_client", "_handle", "_info", "_label", "_generation")

    def __init__(self, client: WorkerClient, handle: int, info: dict, label: str):
        object.__setattr__(self, "_client", client)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_info", info)
        object.__setattr__(self, "_label", label)
        object.__setattr__(self, "_generation", client.generation)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in Remote.__slots__:
            object.__setattr__(self, name, value)
        else:
            raise AttributeError("attributes of an object in the worker cannot be set from the kit")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._client.request("getattr", target=self, name=name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._client.request("call", target=self, args=list(args), kwargs=kwargs)

    def keep(self, *args: Any, **kwargs: Any) -> "Remote":
        """Call, and keep the result in the worker whatever it is."""
        return self._client.request("call", target=self, args=list(args), kwargs=kwargs, keep=True)

    def attribute(self, name: str) -> "Remote":
        """An attribute kept in the worker (a tensor attribute that must stay there)."""
        getter = self._client.module("builtins").getattr
        return getter.keep(self, name)

    def get(self, name: str) -> Any:
        """The attribute ``name``, or :data:`MISSING` when the object has none."""
        try:
            return self._client.request("getattr", target=self, name=name)
        except StudentRaised as error:
            if error.type_name == "AttributeError":
                return MISSING
            raise

    def describe(self, kind: str = "module") -> Any:
        return self._client.request("describe", target=self, kind=kind)

    def same_object(self, other: Any) -> bool:
        """Whether ``other`` is a ``Remote`` for the very same object in the worker."""
        return isinstance(other, Remote) and other._handle == self._handle and other._generation == self._generation

    @property
    def kind(self) -> dict:
        """The worker's word on what this is: ``{"name", "module", "callable", "nn_module", ...}``."""
        return dict(self._info)

    @property
    def is_model(self) -> bool:
        return self._info.get("nn_module") is True

    def __repr__(self) -> str:
        return f"<{self._info.get('name', 'object')} in the worker>"


def remote_type_name(value: Any) -> str:
    """What ``value`` is, for a message: a local value's type, or the worker's word on a Remote's."""
    if isinstance(value, Remote):
        info = value.kind
        module = info.get("module", "")
        name = info.get("name", "object")
        return name if module in ("builtins", "") else f"{module}.{name}"
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def wait_status_reason(status: int | None, killed_for: str | None, limits: dict | None = None) -> tuple[object, str]:
    """(reason, kind) for a worker that ended: ``"crashed with a segmentation fault (SIGSEGV)"``, an
    :mod:`autograder.i18n` message whose subject is the grading process."""
    limits = limits or {}
    if killed_for == "memory":
        return _("used more than {mb} MB of memory and was stopped", mb=limits.get("memory_mb", "?")), "out_of_memory"
    if killed_for == "processes":
        return (_("started more than {n} processes at once (a fork bomb?) and was stopped",
                  n=limits.get("max_processes", "?")), "crashed")
    if status is None:
        return _("stopped answering"), "crashed"
    if status == -signal.SIGKILL:
        return _("was killed by the system (SIGKILL), most likely for running out of memory"), "out_of_memory"
    if status < 0:
        names = {signal.SIGSEGV: _("a segmentation fault (SIGSEGV)"), signal.SIGBUS: _("a bus error (SIGBUS)"),
                 signal.SIGFPE: _("a floating-point exception (SIGFPE)"),
                 signal.SIGILL: _("an illegal instruction (SIGILL)"), signal.SIGABRT: _("an abort (SIGABRT)")}
        try:
            name = names.get(-status) or signal.Signals(-status).name
        except ValueError:
            name = _("signal {number}", number=-status)
        return _("crashed with {signal}", signal=name), "crashed"
    return _("ended with exit status {status} (os._exit() or an interpreter exit in the code?)", status=status), \
        "crashed"

