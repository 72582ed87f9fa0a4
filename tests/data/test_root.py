from pathlib import Path

from autograder.data import root


def test_explicit_beats_env_and_default(monkeypatch, tmp_path):
    monkeypatch.setenv("DLKIT_DATA", str(tmp_path / "env"))
    assert root.data_root(tmp_path / "explicit") == tmp_path / "explicit"


def test_env_beats_default(monkeypatch, tmp_path):
    monkeypatch.setenv("DLKIT_DATA", str(tmp_path / "env"))
    assert root.data_root() == tmp_path / "env"


def test_default_is_data_cache_in_kit_root():
    kit_root = Path(root.__file__).resolve().parents[2]
    assert root.data_root() == kit_root / "data_cache"
    assert (kit_root / "autograder").is_dir()


def test_empty_env_and_empty_explicit_fall_through(monkeypatch):
    monkeypatch.setenv("DLKIT_DATA", "  ")
    assert root.data_root("") == root.default_root()


def test_relative_and_home_paths_become_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert root.data_root("rel") == tmp_path / "rel"
    assert root.data_root("~/d") == tmp_path / "home" / "d"
