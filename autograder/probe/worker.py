"""The worker: the one process that holds a student's code. It answers the grading process's
requests and decides nothing.

It reads requests on one file descriptor and writes replies on another (:mod:`.wire`); the
student's own output goes to its stdout and stderr. Each request names an operation:

- ``import``: import ``<week folder>/<file>`` (once; a failure is remembered and said again);
- ``module``: import a library or kit module by name (``torch``, ``torch.nn.functional``);
- ``getattr``, ``call``: an attribute of an object the worker holds, a call of one;
- ``build``: a ``torch.nn`` model from a spec and a state_dict (:mod:`.modules`);
- ``describe``: an object as plain data (a model's spec, a transform, a matplotlib Axes);
- ``seed``, ``release``, ``bye``.

Results that are plain data (numbers, strings, tensors, lists and dicts of them) go back by
value; anything else stays here, and the grading process gets a handle to it. A call may ask to
``keep`` even a tensor here (a loss to call ``backward()`` on). Whatever the student's code raises
goes back as a description (type, message, the student's own frames), never as an object.

A request may carry ``seconds``: the worker then raises :class:`RequestTimeout` in whatever is
running when they are up, so the reply can say which line was looping; the grading process keeps
its own, harder deadline.
"""

from __future__ import annotations

import importlib
import os
import random
import signal
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import torch

from autograder.importing import import_file
from autograder.probe import describe as describing
from autograder.probe import modules, wire

MAX_MESSAGE_CHARS = 2000


class RequestTimeout(BaseException):
    """The request's ``seconds`` ran out (a ``BaseException``, so ``except Exception`` cannot swallow it)."""


class Worker:
    """The worker's state: the student's folder, the modules imported from it, and the handles."""

    def __init__(self, folder: Path, module_prefix: str = "_dlkit_student"):
        self.folder = Path(folder).resolve()
        self.prefix = module_prefix
        self.objects: dict[int, Any] = {}
        self.ids: dict[int, int] = {}  # id(object) -> handle number, so one object keeps one handle
        self.pinned: set[int] = set()
        self.next_id = 1
        self.imported: dict[str, int | dict] = {}  # file -> handle number, or the import's error

    # ------------------------------------------------------------ handles

    def handle_of(self, value: Any) -> dict:
        key = id(value)
        number = self.ids.get(key)
        if number is None or self.objects.get(number) is not value:
            number = self.next_id
            self.next_id += 1
            self.objects[number] = value
            self.ids[key] = number
        return {"$": "handle", "id": number, "type": type_info(value)}

    def resolve(self, data: dict) -> Any:
        number = data["id"]
        if number not in self.objects:
            raise LookupError(f"the worker holds no object {number} (it was released, or the worker restarted)")
        return self.objects[number]

    def release(self, numbers: list[int]) -> None:
        for number in numbers:
            if number in self.pinned:
                continue
            value = self.objects.pop(number, None)
            if value is not None:
                self.ids.pop(id(value), None)

    # ------------------------------------------------------------ operations

    def op_import(self, file: str) -> Any:
        if file not in self.imported:
            self.imported[file] = self._import(file)
        done = self.imported[file]
        if isinstance(done, dict):
            raise _Remembered(done)
        return self.objects[done]

    def _import(self, file: str) -> int | dict:
        path = self.folder / file
        if not path.is_file():
            return {"kind": "missing", "file": file}
        try:
            module = import_file(f"{self.prefix}_{path.stem}", path)
        except BaseException as error:  # noqa: BLE001 - student code may raise anything, even SystemExit
            if isinstance(error, KeyboardInterrupt):
                raise
            return {"kind": "import", "file": file, **self.error_info(error)}
        number = self.handle_of(module)["id"]
        self.pinned.add(number)
        return number

    def op_getattr(self, target: Any, name: str) -> Any:
        return getattr(target, name)

    def op_call(self, target: Any, args: list, kwargs: dict) -> Any:
        return target(*args, **kwargs)

    def op_describe(self, target: Any, kind: str) -> Any:
        if kind == "module":
            if not isinstance(target, torch.nn.Module):
                raise TypeError(f"{type(target).__qualname__} is not an nn.Module")
            return modules.describe(target)
        return describing.DESCRIBERS[kind](target)

    def op_build(self, spec: dict, state: dict | None, skeleton: bool, device: str = "cpu") -> Any:
        return modules.build(spec, state, skeleton=skeleton).to(device)

    # ------------------------------------------------------------ errors

    def error_info(self, error: BaseException) -> dict:
        """What the grading process needs to explain ``error`` to the student, as plain data."""
        frames = []
        tb = error.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            path = Path(code.co_filename)
            if path.is_absolute() and _inside(path, self.folder):
                frame = {"file": path.name, "line": tb.tb_lineno, "name": code.co_name,
                         "qualname": getattr(code, "co_qualname", code.co_name), "source": _source_line(path, tb.tb_lineno)}
                owner = tb.tb_frame.f_locals.get("self")
                if isinstance(owner, torch.nn.Module):
                    frame["self"] = self.handle_of(owner)
                frames.append(frame)
            tb = tb.tb_next
        info = {"type": type(error).__name__, "module": type(error).__module__,
                "message": _shorten(_message(error)), "frames": frames,
                "not_implemented": isinstance(error, NotImplementedError),
                "memory": isinstance(error, MemoryError), "timeout": isinstance(error, RequestTimeout)}
        if isinstance(error, SyntaxError):
            info["syntax"] = {"line": error.lineno, "offset": error.offset, "text": error.text, "msg": error.msg,
                              "file": Path(error.filename).name if error.filename else None}
        if isinstance(error, SystemExit):
            info["exit"] = error.code if isinstance(error.code, (int, str, type(None))) else repr(error.code)
        if isinstance(error, (NameError, AttributeError)):
            info["name"] = getattr(error, "name", None)
        return info


class _Remembered(Exception):
    """An import that failed before: its description, said again."""

    def __init__(self, info: dict):
        super().__init__(info.get("message", ""))
        self.info = info


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder)
    except OSError:
        return False


def _source_line(path: Path, line: int) -> str:
    try:
        return path.read_text(errors="replace").splitlines()[line - 1].strip()
    except (OSError, IndexError):
        return ""


def _message(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - a student's exception whose __str__ raises
        return f"<{type(error).__name__} whose message could not be read>"


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + " ..."


def type_info(value: Any) -> dict:
    """What the worker says an object is: its class, and what it can be used as."""
    kind = type(value)
    info = {"name": kind.__qualname__, "module": getattr(kind, "__module__", "") or "",
            "callable": callable(value)}
    if isinstance(value, types.ModuleType):
        info["file"] = Path(getattr(value, "__file__", "") or "").name
    if isinstance(value, torch.nn.Module):
        info["nn_module"] = True
    if isinstance(value, type):
        info["class_name"] = value.__qualname__
        info["nn_module_class"] = issubclass(value, torch.nn.Module)
    if isinstance(value, (types.FunctionType, types.MethodType)):
        info["function"] = getattr(value, "__qualname__", "")
    return info


# ---------------------------------------------------------------- the request loop


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _arm(seconds: float | None) -> None:
    if seconds and seconds > 0:
        signal.setitimer(signal.ITIMER_REAL, seconds)


def _disarm() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)


def _on_alarm(signum, frame):
    raise RequestTimeout()


def serve(worker: Worker, requests: int, replies: int) -> None:
    """Answer requests on ``requests`` until ``bye`` or the end of the channel."""
    signal.signal(signal.SIGALRM, _on_alarm)
    while True:
        try:
            header, buffers = wire.receive(requests)
        except wire.ChannelClosed:
            return
        number = header.get("id") if isinstance(header, dict) else None
        if header.get("op") == "bye":
            wire.send(replies, {"id": number, "ok": None}, [])
            return
        out: list[bytes] = []
        try:
            try:
                _arm(header.get("seconds"))
                value = _dispatch(worker, header, buffers)
            finally:
                _disarm()
            keep = bool(header.get("keep"))
            body = worker.handle_of(value) if keep else wire.encode(value, out, worker.handle_of)
            reply = {"id": number, "ok": body}
        except _Remembered as remembered:
            out = []
            reply = {"id": number, "error": remembered.info}
        except BaseException as error:  # noqa: BLE001 - whatever the student's code raised, described
            if isinstance(error, KeyboardInterrupt) and not isinstance(error, RequestTimeout):
                raise
            out = []
            reply = {"id": number, "error": worker.error_info(error)}
        wire.send(replies, reply, out)


def _dispatch(worker: Worker, header: dict, buffers: list[bytes]) -> Any:
    def value(key: str, default: Any = None) -> Any:
        return wire.decode(header[key], buffers, worker.resolve) if key in header else default

    op = header.get("op")
    if op == "import":
        return worker.op_import(str(header["file"]))
    if op == "module":
        return importlib.import_module(str(header["name"]))
    if op == "getattr":
        return worker.op_getattr(value("target"), str(header["name"]))
    if op == "call":
        return worker.op_call(value("target"), value("args", []), value("kwargs", {}))
    if op == "describe":
        return worker.op_describe(value("target"), str(header["kind"]))
    if op == "build":
        return worker.op_build(value("spec"), value("state"), bool(header.get("skeleton")),
                               str(header.get("device", "cpu")))
    if op == "seed":
        seed_everything(int(header["seed"]))
        return None
    if op == "release":
        worker.release([int(n) for n in header.get("ids", [])])
        return None
    if op == "hello":
        return {"pid": os.getpid(), "torch": torch.__version__, "python": sys.version.split()[0]}
    raise ValueError(f"unknown request {op!r}")


def main(requests: int, replies: int, folder: str, threads: int = 1) -> None:
    """Serve one student's folder; the process ends when the channel does."""
    torch.set_num_threads(max(1, threads))
    try:
        serve(Worker(Path(folder)), requests, replies)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # a student's stray non-daemon thread cannot keep the worker alive

