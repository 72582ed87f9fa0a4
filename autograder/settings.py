"""The grading settings, merged in one place.

Each setting comes from, in order of precedence: the pytest command line, an
environment variable, the ini file (``[tool.pytest.ini_options]``), then the
default. An invalid value raises :class:`SettingsError` naming where it came
from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.i18n import LanguageError, Said, _, check_language, language_from_locale

KIT_ROOT = Path(__file__).resolve().parent.parent
DEVICES = ("auto", "cpu", "cuda")
PROFILES = ("auto", "quick", "full")
ORACLES = ("auto", "live", "recorded")


class SettingsError(Said, ValueError):
    """A setting has a value the kit cannot use; ``message`` says which and what to use instead."""


@dataclass(frozen=True)
class Option:
    """One setting's names in each source."""

    name: str
    """Attribute name on :class:`Settings`."""
    flag: str
    """Command-line flag."""
    env: str
    """Environment variable."""
    ini: str
    """Ini key."""
    default: str | None
    """Value when no source sets it."""
    help: Any
    """Help line shown by ``pytest --help`` (a message)."""


OPTIONS = (
    Option("submission", "--submission", "DLKIT_SUBMISSION", "dlkit_submission", None,
           _("folder holding week1/, week2/ ... to check (default: the kit's assignments/; "
           "use 'solutions' to check the reference)")),
    Option("device", "--device", "DLKIT_DEVICE", "dlkit_device", "auto",
           _("where checks run: auto (cuda when available), cpu or cuda")),
    Option("profile", "--profile", "DLKIT_PROFILE", "dlkit_profile", "auto",
           _("training budget: quick (sized for a 2-core CPU), full (course length, for a GPU), "
           "or auto (quick on cpu, full on cuda)")),
    Option("data_root", "--data-root", "DLKIT_DATA", "dlkit_data", None,
           _("data root in torchvision's layout (default: the kit's data_cache/)")),
    Option("results_json", "--results-json", "DLKIT_RESULTS_JSON", "dlkit_results_json", None,
           _("write the results as Gradescope results.json to this path")),
    Option("check_timeout", "--check-timeout", "DLKIT_CHECK_TIMEOUT", "dlkit_check_timeout", None,
           _("seconds one check may run before it fails (default: per exercise in exercises.toml; 0: no limit)")),
    Option("threads", "--threads", "DLKIT_THREADS", "dlkit_threads", None,
           _("CPU threads for PyTorch (default: min(4, cores)); recorded in the results")),
    Option("class_seed", "--class-seed", "DLKIT_CLASS_SEED", "dlkit_class_seed", None,
           _("seed every check's random inputs and training data from this number as well as the check's name "
           "(dlkit grade picks one per class, so a submission cannot know its inputs in advance); recorded")),
    Option("lang", "--lang", "DLKIT_LANG", "dlkit_lang", None,
           _("language of the messages and the points table: en or zh (default: zh when the locale, "
             "LC_ALL, LC_MESSAGES or LANG, begins with zh, else en)")),
    Option("oracle", "--oracle", "DLKIT_ORACLE", "dlkit_oracle", "auto",
           _("what checks compare with: live (the reference solution, instructors' kit only), recorded (values "
           "recorded from it at release time, as in a student's handout) or auto (live where the reference is)")),
)


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one grading run."""

    submission: Path
    """Folder whose ``<week>/`` sub-folders hold the student's files."""
    device: str
    """``"cpu"`` or ``"cuda"`` (``auto`` already resolved)."""
    profile: str
    """``"quick"`` or ``"full"`` (``auto`` already resolved)."""
    data_root: Path | None
    """Explicit data root, or ``None`` for the data layer's default."""
    results_json: Path | None
    """Where to write Gradescope JSON, or ``None``."""
    threads: int
    """``torch.set_num_threads`` value used for the run."""
    check_timeout: float | None = None
    """Seconds per check overriding exercises.toml (0: no limit), or ``None``."""
    class_seed: int | None = None
    """Seed mixed into every check's seed and every training budget's (``None``: the checks' own seeds)."""
    oracle: str = "recorded"
    """``"live"`` (the reference solution, in the kit) or ``"recorded"`` (``auto`` already resolved)."""
    lang: str = "en"
    """``"en"`` or ``"zh"``: the language messages and the table are written in."""


def _raw_values(config) -> dict[str, tuple[str | None, str]]:
    """Each setting's raw value and the source it came from."""
    values = {}
    for opt in OPTIONS:
        cli = config.getoption(opt.name) if config is not None else None
        if cli is not None:
            values[opt.name] = (cli, _("command-line option {flag}", flag=opt.flag))
        elif os.environ.get(opt.env):
            values[opt.name] = (os.environ[opt.env], _("environment variable {name}", name=opt.env))
        elif config is not None and config.getini(opt.ini):
            values[opt.name] = (config.getini(opt.ini), _("ini option {name}", name=opt.ini))
        else:
            values[opt.name] = (opt.default, _("default"))
    return values


def _choice(value: str, allowed: tuple[str, ...], source) -> str:
    if value not in allowed:
        raise SettingsError(_("{source}={value} is not one of: {allowed}", source=source, value=repr(value),
                              allowed=", ".join(allowed)))
    return value


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve(config=None, invocation_dir: Path | None = None) -> Settings:
    """Merge every source into :class:`Settings`; raise :class:`SettingsError` on a bad value."""
    raw = _raw_values(config)
    base = invocation_dir or Path.cwd()

    value, source = raw["device"]
    device = _choice(value, DEVICES, source)
    if device == "auto":
        device = "cuda" if _cuda_available() else "cpu"
    elif device == "cuda" and not _cuda_available():
        raise SettingsError(_("{source}=cuda, but PyTorch sees no CUDA device here; use --device cpu (every "
                              "check has a CPU form)", source=source))

    value, source = raw["profile"]
    profile = _choice(value, PROFILES, source)
    if profile == "auto":
        profile = "full" if device == "cuda" else "quick"

    value, source = raw["submission"]
    if value is None:
        submission = KIT_ROOT / "assignments"
    else:
        submission = Path(value)
        if not submission.is_absolute():
            submission = (base / submission) if (base / submission).exists() else (KIT_ROOT / submission)
    submission = submission.resolve()
    if not submission.is_dir():
        raise SettingsError(_("{source}: submission folder {folder} does not exist", source=source,
                              folder=str(submission)))

    value, _source = raw["data_root"]
    data_root = Path(value).expanduser().resolve() if value else None

    value, _source = raw["results_json"]
    results_json = (base / value).resolve() if value else None

    value, source = raw["threads"]
    if value is None:
        threads = max(1, min(4, os.cpu_count() or 1))
    else:
        try:
            threads = int(value)
        except ValueError:
            threads = 0
        if threads < 1:
            raise SettingsError(_("{source}={value} must be a whole number of threads, 1 or more", source=source,
                                  value=repr(value)))

    value, source = raw["check_timeout"]
    check_timeout = None
    if value is not None:
        try:
            check_timeout = float(value)
        except ValueError:
            check_timeout = -1.0
        if check_timeout < 0:
            raise SettingsError(_("{source}={value} must be a number of seconds, 0 or more", source=source,
                                  value=repr(value)))

    value, source = raw["class_seed"]
    class_seed = None
    if value is not None:
        try:
            class_seed = int(value)
        except ValueError:
            class_seed = -1
        if not 0 <= class_seed < 2**63:
            raise SettingsError(_("{source}={value} must be a whole number, 0 or more", source=source,
                                  value=repr(value)))

    value, source = raw["oracle"]
    oracle = _choice(value, ORACLES, source)
    from autograder.oracle import live_reference_available

    if oracle == "auto":
        oracle = "live" if live_reference_available() else "recorded"
    elif oracle == "live" and not live_reference_available():
        raise SettingsError(_("{source}=live, but this is a student's handout: it has no reference solution "
                              "(leave --oracle out: the handout compares with its recorded values)", source=source))

    value, source = raw["lang"]
    try:
        lang = check_language(value, str(source)) if value else language_from_locale()
    except LanguageError as error:
        raise SettingsError(_("{source}={value} is not one of: {allowed}", source=source, value=repr(value),
                              allowed="en, zh")) from error

    return Settings(submission, device, profile, data_root, results_json, threads, check_timeout, class_seed,
                    oracle, lang)
