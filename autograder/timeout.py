"""A wall-clock limit on one check, so an endless loop fails the check instead of hanging the run."""

from __future__ import annotations

import contextlib
import signal
import threading


class CheckTimeout(BaseException):
    """The check ran past its limit.

    A ``BaseException`` so that a student's ``except Exception:`` cannot swallow it.
    """


@contextlib.contextmanager
def time_limit(seconds: float | None, what: str):
    """Raise :class:`CheckTimeout` in the running code after ``seconds`` (no limit if falsy).

    Uses ``SIGALRM``, so it applies on Unix in the main thread; elsewhere the
    block runs unlimited (batch grading still enforces its own process timeout).
    """
    usable = seconds and hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def _expire(signum, frame):
        raise CheckTimeout(
            f"{what} was still running after {seconds:g} s, the limit for this check. "
            "Look for a loop that never ends, or work far beyond what the check asks for."
        )

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
