"""A wall-clock limit on one check, so an endless loop fails the check instead of hanging the run."""

from __future__ import annotations

import contextlib
import signal
import threading
import time

from autograder.i18n import Said, _


class CheckTimeout(Said, BaseException):
    """The check ran past its limit.

    A ``BaseException`` so that a student's ``except Exception:`` cannot swallow it.
    """

    def __init__(self, message, seconds: float):
        super().__init__(message, seconds)  # self.message: what the student reads
        self.seconds = seconds
        """The limit that ran out."""


def _usable() -> bool:
    return hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()


def _expired(what, seconds: float) -> CheckTimeout:
    return CheckTimeout(_("{what} was still running after {seconds:g} s, the limit for this check. Look for a loop "
                          "that never ends, or work far beyond what the check asks for.", what=what, seconds=seconds),
                        seconds)


@contextlib.contextmanager
def time_limit(seconds: float | None, what):
    """Raise :class:`CheckTimeout` in the running code after ``seconds`` (no limit if falsy).

    Uses ``SIGALRM``, so it applies on Unix in the main thread; elsewhere the
    block runs unlimited (batch grading still enforces its own process timeout).
    """
    clock = CheckClock(seconds, what)
    with clock.running():
        yield


_running: list["CheckClock"] = []


def current_clock() -> "CheckClock | None":
    """The clock of the check phase running now, if any (what a wait on the worker may still use)."""
    return _running[-1] if _running else None


class CheckClock:
    """One check's time limit, spent across several phases (fixture setup, then the call).

    Each :meth:`running` block is timed with ``SIGALRM`` for what is left of the
    limit; between blocks (pytest's own code) no alarm is armed, so the timeout
    is only ever raised inside the check's own work.
    """

    def __init__(self, seconds: float | None, what):
        self.seconds = seconds
        self.what = what
        """What is timed, for the message (``_("the check {name}", ...)``, or a plain string)."""
        self.spent = 0.0
        self._since: float | None = None

    @property
    def left(self) -> float:
        """Seconds of the limit not yet used."""
        running = time.monotonic() - self._since if self._since is not None else 0.0
        return (self.seconds or 0.0) - self.spent - running

    @contextlib.contextmanager
    def paused(self):
        """Stop the clock for the block (the kit's own work that is not the check's: starting a worker)."""
        if self._since is None:
            yield
            return
        remaining = self.left
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.spent += time.monotonic() - self._since
        try:
            yield
        finally:
            self._since = time.monotonic()
            if remaining > 0:
                signal.setitimer(signal.ITIMER_REAL, remaining)

    @contextlib.contextmanager
    def running(self):
        """Time the block against what is left; raise :class:`CheckTimeout` when it runs out."""
        if not self.seconds or not _usable():
            _running.append(self)
            try:
                yield
            finally:
                _running.remove(self)
            return
        if self.left <= 0:
            raise _expired(self.what, self.seconds)

        def _expire(signum, frame):
            raise _expired(self.what, self.seconds)

        previous = signal.signal(signal.SIGALRM, _expire)
        signal.setitimer(signal.ITIMER_REAL, self.left)
        self._since = time.monotonic()
        _running.append(self)
        try:
            yield
        finally:
            _running.remove(self)
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            self.spent += time.monotonic() - self._since
            self._since = None
