"""Settings: precedence of the sources, and errors that name where a bad value came from."""

from pathlib import Path

import pytest

from autograder import settings
from autograder.settings import SettingsError, resolve


class FakeConfig:
    def __init__(self, cli=None, ini=None):
        self.cli, self.ini = cli or {}, ini or {}

    def getoption(self, name):
        return self.cli.get(name)

    def getini(self, name):
        return self.ini.get(name)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for opt in settings.OPTIONS:
        monkeypatch.delenv(opt.env, raising=False)
    monkeypatch.setattr(settings, "_cuda_available", lambda: False)


def test_defaults(tmp_path):
    resolved = resolve(FakeConfig(), tmp_path)
    assert resolved.device == "cpu"
    assert resolved.profile == "quick"
    assert resolved.submission == (settings.KIT_ROOT / "assignments").resolve()
    assert resolved.threads >= 1


def test_command_line_beats_environment_beats_ini(tmp_path, monkeypatch):
    ini = FakeConfig(ini={"dlkit_profile": "full"})
    assert resolve(ini, tmp_path).profile == "full"
    monkeypatch.setenv("DLKIT_PROFILE", "quick")
    assert resolve(ini, tmp_path).profile == "quick"
    cli = FakeConfig(cli={"profile": "full"}, ini={"dlkit_profile": "quick"})
    assert resolve(cli, tmp_path).profile == "full"


def test_bad_value_names_its_source(tmp_path, monkeypatch):
    monkeypatch.setenv("DLKIT_DEVICE", "gpu")
    with pytest.raises(SettingsError, match="environment variable DLKIT_DEVICE='gpu' is not one of: auto, cpu, cuda"):
        resolve(FakeConfig(), tmp_path)
    monkeypatch.delenv("DLKIT_DEVICE")
    with pytest.raises(SettingsError, match="command-line option --profile='slow'"):
        resolve(FakeConfig(cli={"profile": "slow"}), tmp_path)
    with pytest.raises(SettingsError, match="--threads='many' must be a whole number"):
        resolve(FakeConfig(cli={"threads": "many"}), tmp_path)


def test_cuda_requested_without_a_gpu(tmp_path):
    with pytest.raises(SettingsError, match="sees no CUDA device.*--device cpu"):
        resolve(FakeConfig(cli={"device": "cuda"}), tmp_path)


def test_missing_submission_folder(tmp_path):
    with pytest.raises(SettingsError, match="submission folder .*nowhere does not exist"):
        resolve(FakeConfig(cli={"submission": str(tmp_path / "nowhere")}), tmp_path)


def test_relative_submission_resolves_against_invocation_dir_then_kit(tmp_path):
    (tmp_path / "mine").mkdir()
    assert resolve(FakeConfig(cli={"submission": "mine"}), tmp_path).submission == tmp_path / "mine"
    assert resolve(FakeConfig(cli={"submission": "solutions"}), tmp_path).submission == \
        (settings.KIT_ROOT / "solutions").resolve()
