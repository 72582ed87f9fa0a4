"""Every data test runs against its own temporary folders, never the kit's data_cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.data import cache


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test away from the kit's real data_cache, DLKIT_DATA and the per-process memo."""
    fallback = tmp_path_factory.mktemp("fallback_cache")
    monkeypatch.setattr(cache, "fallback_cache_dir", lambda: fallback)
    monkeypatch.delenv("DLKIT_DATA", raising=False)
    cache.clear_memo()
    yield fallback
    cache.clear_memo()
