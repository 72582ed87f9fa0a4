"""A wall-clock limit on one check, so an endless loop fails the check instead of hanging the run."""

from __future__ import annotations

import contextlib
import signal
import threading
import time


class CheckTimeout(BaseException):
    """The check ran past its limit.

    A ``BaseException`` so that a student's ``except Exception:`` cannot swallow it.
    """

    def __init__(self, message: str, seconds: float):
        super().__init__(message)
        self.seconds = seconds
        """The limit that ran out."""


def _usable() -> bool:
    return hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()


def _expired(what: str, seconds: float) -> CheckTimeout:
    return CheckTimeout(
        f"{what} was still running after {seconds:g} s, the limit for this check. "
        "Look for a loop that never ends, or work far beyond what the check asks for.", seconds)


@contextlib.contextmanager
def time_limit(seconds: float | None, what: str):
    """Raise :class:`CheckTimeout` in the running code after ``seconds`` (no limit if falsy).

    Uses ``SIGALRM``, so it applies on Unix in the main thread; elsewhere the
    block runs unlimited (batch grading still enforces its own process timeout).
    """
    clock = CheckClock(seconds, what)
    with clock.running():
        yield


class CheckClock:
    """One check's time limit, spent across several phases (fixture setup, then the call).

    Each :meth:`running` block is timed with ``SIGALRM`` for what is left of the
    limit; between blocks (pytest's own code) no alarm is armed, so the timeout
    is only ever raised inside the check's own work.
    """

    def __init__(self, seconds: float | None, what: str):
        self.seconds = seconds
        self.what = what
        self.spent = 0.0

    @property
    def left(self) -> float:
        """Seconds of the limit not yet used."""
        return (self.seconds or 0.0) - self.spent

    @contextlib.contextmanager
    def running(self):
        """Time the block against what is left; raise :class:`CheckTimeout` when it runs out."""
        if not self.seconds or not _usable():
            yield
            return
        if self.left <= 0:
            raise _expired(self.what, self.seconds)

        def _expire(signum, frame):
            raise _expired(self.what, self.seconds)

        previous = signal.signal(signal.SIGALRM, _expire)
        start = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, self.left)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            self.spent += time.monotonic() - start
