"""Fixtures for the batch-grading tests (the classes themselves are built by grading_classes.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlkit.grading.isolate import NAMESPACES, detect_isolation
from tests.grading.grading_classes import (CLASS_SEED, HOSTILE_OPTIONS, ONE_JOB, build_hostile_class,
                                           build_realistic_class, grade_command)


@pytest.fixture(scope="session")
def namespaces() -> bool:
    """Whether this machine gives the sandbox its namespaces (root with unshare on Linux)."""
    return detect_isolation("auto") == NAMESPACES


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("grading")


@pytest.fixture(scope="session")
def graded(session_tmp):
    """The realistic class graded with two jobs and the warm pool, and part of it again with one job and no
    pool: ``(class folder, {2 | 1: out folder})`` (shared by the class and the cluster tests)."""
    root = build_realistic_class(session_tmp / "realistic")
    build_realistic_class(session_tmp / "realistic_again", ONE_JOB)
    outs = {}
    for jobs, folder, extra in ((2, root, ()), (1, session_tmp / "realistic_again", ("--no-pool",))):
        out, tmp = session_tmp / f"realistic_out_{jobs}", session_tmp / f"realistic_tmp_{jobs}"
        tmp.mkdir()
        proc = grade_command(folder, out, "--jobs", str(jobs), "--class-seed", str(CLASS_SEED), *extra, tmp=tmp)
        assert proc.returncode == 0, proc.stderr
        outs[jobs] = out
    return root, outs


@pytest.fixture(scope="session")
def hostile(session_tmp, namespaces):
    """The hostile class graded with two jobs: ``(class folder, out folder, its temp folder, the process)``
    (shared by the hostile and the cluster tests; the endless loop is graded on its own, with a short timeout)."""
    root = build_hostile_class(session_tmp / "hostile", namespaces)
    (root / "endless_loop").rename(session_tmp / "endless_loop_alone")
    out, tmp = session_tmp / "hostile_out", session_tmp / "hostile_tmp"
    tmp.mkdir()
    proc = grade_command(root, out, "--jobs", "2", *HOSTILE_OPTIONS, tmp=tmp)
    assert proc.returncode == 0, proc.stderr
    return root, out, tmp, proc
