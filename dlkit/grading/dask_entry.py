"""The function a Dask worker is handed for each submission of ``dlkit grade --executor dask``.

It is pickled by value (:func:`cloudpickle.register_pickle_by_value`), so a worker whose Python
lacks the kit can still run it and say so, naming itself, instead of failing at unpickling with a
bare ``ModuleNotFoundError`` the client could not pin on a worker. Its argument and reply are plain
data for the same reason. Nothing of the kit is imported here at module level.
"""

from __future__ import annotations

import socket
import sys


def worker_name() -> str:
    """The Dask worker this runs in (its address), or this machine's name outside one."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return socket.gethostname()


def grade_on_worker(ticket: dict) -> dict:
    """Grade the submission in ``ticket`` (see :func:`dlkit.grading.dask_task.grade_ticket`); a worker
    without the kit replies ``{"unfit": "no_kit", ...}``."""
    try:
        from dlkit.grading.dask_task import grade_ticket
    except ImportError as error:
        return {"unfit": "no_kit", "worker": worker_name(), "python": sys.executable, "error": str(error)}
    return grade_ticket(ticket)
