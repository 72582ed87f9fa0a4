"""A worker's status pipe, read as lines arrive: ``ready``, ``error <why>``, ``exit <wait status>``."""

from __future__ import annotations

import os
import threading


class StatusPipe:
    """Reads the status lines of one worker in a thread; callers wait for the one they need."""

    def __init__(self, fd: int):
        self.fd = fd
        self.lines: list[str] = []
        self.done = threading.Event()
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True, name="dlkit-worker-status").start()

    def _read(self) -> None:
        buffer = b""
        try:
            while chunk := os.read(self.fd, 4096):
                buffer += chunk
                *complete, buffer = buffer.split(b"\n")
                with self.changed:
                    self.lines += [line.decode("utf-8", "replace") for line in complete]
                    self.changed.notify_all()
        except OSError:
            pass
        finally:
            os.close(self.fd)
            with self.changed:
                self.done.set()
                self.changed.notify_all()

    def first_line(self, timeout: float | None) -> str | None:
        """The first line, once it comes (``None``: the pipe closed, or ``timeout`` passed, without one)."""
        with self.changed:
            self.changed.wait_for(lambda: self.lines or self.done.is_set(), timeout)
            return self.lines[0] if self.lines else None

    def line_starting(self, prefix: str, timeout: float | None = 2.0) -> str | None:
        """The first line that starts with ``prefix``, without it (``None`` if none came in ``timeout``)."""
        with self.changed:
            self.changed.wait_for(lambda: self.done.is_set() or any(l.startswith(prefix) for l in self.lines),
                                  timeout)
            found = [line for line in self.lines if line.startswith(prefix)]
        return found[0][len(prefix):] if found else None
