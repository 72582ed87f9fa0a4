"""Shared fixtures for the release tests: a fresh generation of every week, made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlkit.release.generate import ASSIGNMENTS_ROOT, SOLUTIONS_ROOT, release_week, weeks_in

FIXTURE_COURSE = Path(__file__).resolve().parent / "fixtures" / "course"
WEEKS = weeks_in(SOLUTIONS_ROOT)


@pytest.fixture(scope="session")
def fresh_release(tmp_path_factory) -> Path:
    """A folder holding ``<week>/`` freshly generated from ``solutions/<week>/`` for every week."""
    root = tmp_path_factory.mktemp("fresh-release")
    for week in WEEKS:
        release_week(week, SOLUTIONS_ROOT, root)
    return root


@pytest.fixture(scope="session")
def committed_release() -> Path:
    return ASSIGNMENTS_ROOT
