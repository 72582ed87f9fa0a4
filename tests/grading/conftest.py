"""Fixtures for the batch-grading tests (the classes themselves are built by grading_classes.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlkit.grading.isolate import NAMESPACES, detect_isolation


@pytest.fixture(scope="session")
def namespaces() -> bool:
    """Whether this machine gives the sandbox its namespaces (root with unshare on Linux)."""
    return detect_isolation("auto") == NAMESPACES


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("grading")
