"""Fixtures shared by the kit's own tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.settings import KIT_ROOT

ZYGOTE = None
"""The zygote that forks workers for the tests that import students' files (forked at start-up, before
any test runs PyTorch here: see autograder.probe.zygote)."""
CLIENTS = []


def pytest_configure(config):
    global ZYGOTE
    # The kit's tests read English unless a test asks for Chinese, whatever the machine's locale says.
    os.environ["DLKIT_LANG"] = "en"
    from autograder.i18n import set_language

    set_language("en")
    if hasattr(os, "fork"):
        from autograder.probe.zygote import Zygote, warm_up

        ZYGOTE = Zygote(prepare=warm_up)


def pytest_unconfigure(config):
    for client in CLIENTS:
        client.close()
    if ZYGOTE is not None:
        ZYGOTE.close()


def worker_for(folder: Path):
    """A worker client on ``folder``, from the tests' zygote (closed at the end of the run)."""
    from autograder.probe.client import WorkerClient, wait_status_reason
    from autograder.probe.launch import spawn
    from autograder.probe.zygote import launched

    env = {**os.environ, "MPLBACKEND": "Agg"}
    launcher = (lambda: launched(ZYGOTE, str(folder), 1, env=env)) if ZYGOTE is not None else \
        (lambda: spawn(Path(folder), 1, env=env))
    client = WorkerClient(launcher, wait_status_reason)
    CLIENTS.append(client)
    return client


@pytest.fixture
def kit_root() -> Path:
    return KIT_ROOT
