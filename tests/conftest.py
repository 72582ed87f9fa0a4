"""Fixtures shared by the kit's own tests."""

from pathlib import Path

import pytest

from autograder.settings import KIT_ROOT


@pytest.fixture
def kit_root() -> Path:
    return KIT_ROOT
