"""The pytest plugin behind ``pytest autograder``.

It gives every check under ``autograder/<week>/test_<exercise>.py`` its points
from ``exercises.toml``, a seed derived from its name, the student's module as
the ``student`` fixture, and turns failures into one message for the student.
At the end it prints the points table and, on request, writes Gradescope JSON.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from autograder import settings as settings_module
from autograder.data.errors import DataError
from autograder.failures import describe
from autograder.report import format_table
from autograder.results import FAILED, PASSED, CheckResult, current_provenance, gradescope_json, write_json_atomically
from autograder.spec import SpecError, check_spec, exercise_spec, load_spec
from autograder.submission import REFERENCE_ROOT, StudentCodeError, Submission
from autograder.timeout import CheckClock

CHECKS_ROOT = Path(__file__).resolve().parent
CHECK_KEY = pytest.StashKey["CheckSpec"]()
SEED_KEY = pytest.StashKey[int]()
CLOCK_KEY = pytest.StashKey[CheckClock]()


def check_seed(check_id: str) -> int:
    """A seed derived from the check's id alone, so every run of a check draws the same numbers."""
    return int.from_bytes(hashlib.sha256(check_id.encode()).digest()[:4], "big") % (2**31)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlkit", "dlkit autograder")
    for opt in settings_module.OPTIONS:
        group.addoption(opt.flag, dest=opt.name, default=None, help=f"{opt.help} [env {opt.env}]")
        parser.addini(opt.ini, help=opt.help, default=None)


class GradingSession:
    """State of one ``pytest`` run that collected graded checks."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self._settings = None
        self.results: list[CheckResult] = []
        self.submissions: dict[tuple[str, str], Submission] = {}

    @property
    def settings(self) -> settings_module.Settings:
        if self._settings is None:
            try:
                self._settings = settings_module.resolve(self.config, Path(str(self.config.invocation_params.dir)))
            except settings_module.SettingsError as error:
                raise pytest.UsageError(str(error)) from None
        return self._settings

    def submission(self, week: str, which: str = "submission") -> Submission:
        key = (week, which)
        if key not in self.submissions:
            root = self.settings.submission if which == "submission" else REFERENCE_ROOT
            self.submissions[key] = Submission(root, week, label=which)
        return self.submissions[key]


def _session(config: pytest.Config) -> GradingSession:
    return config.stash.setdefault(_SESSION_KEY, GradingSession(config))


_SESSION_KEY = pytest.StashKey[GradingSession]()


def recorded_results(config: pytest.Config) -> list[CheckResult]:
    """The checks' results recorded so far in this run, in the order they finished."""
    state = config.stash.get(_SESSION_KEY, None)
    return state.results if state is not None else []


def _graded_location(item: pytest.Item) -> tuple[str, str, str] | None:
    """(week, exercise, check) for an item that is a graded check, else None."""
    path = Path(str(item.path)).resolve()
    if path.parent.parent != CHECKS_ROOT or not path.name.startswith("test_"):
        return None
    name = getattr(item, "originalname", item.name)
    return path.parent.name, path.stem[len("test_"):], name[len("test_"):]


def _may_select(path: Path, config: pytest.Config) -> bool:
    """Whether ``-k`` can select any declared check of the check module at ``path`` (True when unsure).

    Lets ``pytest autograder -k week1`` skip importing week 2's check modules: the keywords a check
    item matches are its function's, its module's and its folders' names, all known from exercises.toml.
    """
    expression = config.getoption("keyword", "")
    if not expression or path.parent.parent != CHECKS_ROOT or not path.name.startswith("test_"):
        return True
    try:
        from _pytest.mark import KeywordMatcher
        from _pytest.mark.expression import Expression

        checks = load_spec()[path.parent.name][path.stem.removeprefix("test_")].checks
        compiled = Expression.compile(expression)
    except Exception:  # noqa: BLE001 - pytest's internals moved, or an undeclared module: collect it
        return True
    folders = {part for part in path.relative_to(CHECKS_ROOT.parent).parent.parts}
    return any(compiled.evaluate(KeywordMatcher(frozenset({f"test_{check}", path.name, *folders})))
               for check in checks)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.suffix == ".py" and not _may_select(collection_path.resolve(), config):
        return True
    return None


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    graded = 0
    for item in items:
        location = _graded_location(item)
        if location is None:
            continue
        try:
            spec = check_spec(*location)
        except SpecError as error:
            raise pytest.UsageError(f"kit error: {error}") from None
        item.stash[CHECK_KEY] = spec
        item.stash[SEED_KEY] = check_seed(spec.id)
        graded += 1
    if graded:
        state = _session(config)
        import torch

        from autograder.acceleration import make_deterministic

        torch.set_num_threads(state.settings.threads)
        make_deterministic(torch.device(state.settings.device))
        if graded == len(items):
            if config.option.tbstyle == "auto":
                config.option.tbstyle = "no"
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None and config.option.reportchars == "fE":
                reporter.reportchars = ""  # the points table already lists every failure


@pytest.fixture(autouse=True)
def _seeded(request: pytest.FixtureRequest):
    """Seed Python, NumPy and PyTorch from the check's name before it runs."""
    seed = request.node.stash.get(SEED_KEY, None)
    if seed is not None:
        import numpy as np
        import torch

        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
    yield


def _item_spec(request: pytest.FixtureRequest):
    spec = request.node.stash.get(CHECK_KEY, None)
    if spec is None:
        raise RuntimeError("dlkit fixtures are only available to checks under autograder/<week>/")
    return spec


@pytest.fixture
def grading_settings(request: pytest.FixtureRequest) -> settings_module.Settings:
    """The merged settings of this run."""
    return _session(request.config).settings


@pytest.fixture
def submission(request: pytest.FixtureRequest) -> Submission:
    """The student's files for this check's week."""
    return _session(request.config).submission(_item_spec(request).week)


@pytest.fixture
def student(request: pytest.FixtureRequest, submission: Submission):
    """The student's module for this check's exercise (e.g. ``week1/spiral.py``)."""
    return submission.load(_item_spec(request).exercise)


@pytest.fixture
def reference(request: pytest.FixtureRequest):
    """The reference solution's module for this check's exercise."""
    spec = _item_spec(request)
    return _session(request.config).submission(spec.week, "reference").load(spec.exercise)


@pytest.fixture
def reference_module(request: pytest.FixtureRequest):
    """``reference_module("cifar10")``: another exercise's reference module of this check's week."""
    week = _item_spec(request).week
    return _session(request.config).submission(week, "reference").load


@pytest.fixture
def device(grading_settings) -> "torch.device":
    """The device checks run on."""
    import torch

    return torch.device(grading_settings.device)


@pytest.fixture
def profile(grading_settings) -> str:
    """The budget profile: ``"quick"`` or ``"full"``."""
    return grading_settings.profile


@pytest.fixture
def exercise(request: pytest.FixtureRequest):
    """This check's exercise metadata (thresholds, budgets)."""
    spec = _item_spec(request)
    return exercise_spec(spec.week, spec.exercise)


@pytest.fixture
def data_root(grading_settings):
    """The explicit data root, or ``None`` for the data layer's default."""
    return grading_settings.data_root


def _check_clock(item: pytest.Item) -> CheckClock | None:
    """The item's time limit, shared by its fixture setup (where the student's file is imported) and its call."""
    spec = item.stash.get(CHECK_KEY, None)
    if spec is None:
        return None
    if CLOCK_KEY not in item.stash:
        settings = _session(item.config).settings
        seconds = settings.check_timeout
        if seconds is None:
            seconds = exercise_spec(spec.week, spec.exercise).timeout_s[settings.profile]
        item.stash[CLOCK_KEY] = CheckClock(seconds, f"the check {spec.name}")
    return item.stash[CLOCK_KEY]


@pytest.hookimpl(wrapper=True)
def _on_check_clock(item: pytest.Item):
    """Run one phase of a check (its fixture setup, then its call) on the check's one clock."""
    clock = _check_clock(item)
    if clock is None:
        return (yield)
    with clock.running():
        return (yield)


pytest_runtest_setup = pytest_runtest_call = _on_check_clock


def _cause(error: BaseException) -> str:
    """The shared cause of a failure (see :attr:`CheckResult.cause`), or ``""`` for the check's own."""
    if isinstance(error, StudentCodeError):
        return f"module {error.file}"
    if isinstance(error, DataError):
        return f"data {error.dataset or 'data set'}"
    return ""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    spec = item.stash.get(CHECK_KEY, None)
    if spec is None:
        return
    report = outcome.get_result()
    state = _session(item.config)
    message, cause = "", ""
    if report.failed and call.excinfo is not None:
        student_dir = state.settings.submission / spec.week
        message = describe(call.excinfo.value, student_dir)
        cause = _cause(call.excinfo.value)
        report.longrepr = message
    final = (report.when == "setup" and report.failed) or report.when == "call"
    if final:
        passed = report.passed
        state.results.append(
            CheckResult(spec.week, spec.exercise, spec.name, spec.points, spec.points if passed else 0.0,
                        PASSED if passed else FAILED, message, item.stash[SEED_KEY], spec.visibility, cause)
        )


def _titles() -> dict[str, str]:
    return {f"{week}/{name}": ex.title for week, exercises in load_spec().items() for name, ex in exercises.items()}


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    state = config.stash.get(_SESSION_KEY, None)
    if state is None or not state.results:
        return
    settings = state.settings
    provenance = current_provenance(settings.device, settings.profile, settings.threads)
    terminalreporter.write_sep("=", "dlkit points")
    terminalreporter.write_line(format_table(state.results, provenance, _titles()))
    if settings.results_json is not None:
        write_json_atomically(gradescope_json(state.results, provenance), settings.results_json)
        terminalreporter.write_line(f"results written to {settings.results_json}")
