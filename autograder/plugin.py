"""The pytest plugin behind ``pytest autograder``.

It gives every check under ``autograder/<week>/test_<exercise>.py`` its points
from ``exercises.toml``, a seed derived from its name, the student's module as
the ``student`` fixture, and turns failures into one message for the student.
At the end it prints the points table and, on request, writes Gradescope JSON.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import sys
from pathlib import Path

import pytest

from autograder import settings as settings_module
from autograder.data.errors import DataError
from autograder.expect import Pending, fail
from autograder.failures import describe
from autograder.i18n import _, display_width, n_, render, set_language
from autograder.probe.client import WorkerClient, WorkerDied, wait_status_reason
from autograder.report import format_table
from autograder.oracle import LiveOracle, NotRecorded, Oracle, RecordedOracle, load_recorded
from autograder.results import FAILED, PASSED, PENDING, CheckResult, current_provenance, gradescope_json, write_json_atomically
from autograder.spec import SpecError, check_spec, exercise_spec, load_spec
from autograder.submission import StudentCodeError, Submission
from autograder.timeout import CheckClock, CheckTimeout

CHECKS_ROOT = Path(__file__).resolve().parent
HIDDEN_ROOT = CHECKS_ROOT.parent / "dlkit" / "hidden"
"""Hidden checks (``hidden = true`` in exercises.toml): instructors' side, collected by ``dlkit grade`` only."""
CHECK_KEY = pytest.StashKey["CheckSpec"]()
SEED_KEY = pytest.StashKey[int]()
CLOCK_KEY = pytest.StashKey[CheckClock]()


def check_seed(check_id: str, class_seed: int | None = None) -> int:
    """A seed derived from the check's id (and the class's seed, when grading a class), so every run of
    a check draws the same numbers, and a submission graded with an unknown class seed cannot know them."""
    text = check_id if class_seed is None else f"{class_seed}/{check_id}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") % (2**31)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlkit", "dlkit autograder")
    for opt in settings_module.OPTIONS:
        group.addoption(opt.flag, dest=opt.name, default=None, help=f"{opt.help} [env {opt.env}]")
        parser.addini(opt.ini, help=str(opt.help), default=None)


CRASHES_PER_EXERCISE = 2
"""Crashes of the worker in one exercise's checks before the rest of its checks are left out (a helper
that every check calls and that kills the process would otherwise cost one worker start per check)."""

def batch_plugin(config: pytest.Config):
    """``dlkit grade``'s plugin in this run (:class:`dlkit.grading.grader.BatchWorkers`: sandboxed
    workers, the submission's deadline), or ``None`` in a student's own run."""
    return next((p for p in config.pluginmanager.get_plugins() if getattr(p, "dlkit_batch", False)), None)


class GradingSession:
    """State of one ``pytest`` run that collected graded checks."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self._settings = None
        self.results: list[CheckResult] = []
        self.clients: dict[str, WorkerClient] = {}
        self.zygote = None
        self.crashes: dict[tuple[str, str], int] = {}
        self.problems: list[tuple[str, object]] = []
        """(kind, what happened: a message) for each time the worker ended or time ran out: ``("crashed", "x/y: ...")``."""
        self.timed_out = None
        """In ``dlkit grade``: what the submission was doing when its time ran out."""
        self.recorded: dict[str, dict] = {}
        """Week -> check id -> key -> value recorded from the reference (a handout's oracle)."""

    @property
    def settings(self) -> settings_module.Settings:
        if self._settings is None:
            try:
                self._settings = settings_module.resolve(self.config, Path(str(self.config.invocation_params.dir)))
            except settings_module.SettingsError as error:
                raise pytest.UsageError(str(error)) from None
            set_language(self._settings.lang)
        return self._settings

    def client(self, week: str) -> WorkerClient:
        """The worker holding this week's student files (started on first use)."""
        if week not in self.clients:
            folder = self.settings.submission / week
            batch = batch_plugin(self.config)
            if batch is not None:
                launcher = lambda: batch.launcher(folder, self.settings)  # noqa: E731
                describe_death = batch.describe_death
            else:
                env = {**os.environ, "MPLBACKEND": "Agg"}  # the worker draws off-screen
                launcher = lambda: self._local_worker(folder, env)  # noqa: E731
                describe_death = wait_status_reason
            self.clients[week] = WorkerClient(launcher, describe_death, on_output=_print_student_output)
        return self.clients[week]

    def _local_worker(self, folder: Path, env: dict[str, str]):
        """A worker for a student's own run: forked from the zygote where there is one, else a fresh Python."""
        if self.zygote is not None:
            from autograder.probe.zygote import launched

            return launched(self.zygote, str(folder), self.settings.threads, env=env)
        from autograder.probe.launch import spawn

        return spawn(folder, threads=self.settings.threads, env=env)

    def start_zygote(self) -> None:
        """Fork the process that forks workers, warm (Linux only: elsewhere each worker is a fresh Python)."""
        if self.zygote is None and sys.platform.startswith("linux"):
            from autograder.probe.zygote import Zygote, warm_up

            self.zygote = Zygote(prepare=warm_up)

    def oracle(self, check_id: str) -> Oracle:
        """The oracle of one check: live in the kit (recording too, for ``dlkit release record``),
        recorded values in a handout."""
        recorder = next((p for p in self.config.pluginmanager.get_plugins()
                         if getattr(p, "dlkit_recorder", False)), None)
        if recorder is not None:
            return LiveOracle(check_id, record=recorder.values.setdefault(check_id, {}))
        if self.settings.oracle == "live":
            return LiveOracle(check_id)
        week = check_id.split("/")[0]
        if week not in self.recorded:
            self.recorded[week] = load_recorded(week)
        return RecordedOracle(check_id, self.recorded[week].get(check_id, {}))

    def submission(self, week: str) -> Submission:
        return Submission(self.client(week), self.settings.submission, week)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        if self.zygote is not None:
            self.zygote.close()


def _print_student_output(text: str) -> None:
    """What the student's code printed, where pytest captures the running check's output."""
    sys.stdout.write(text)


last_session: GradingSession | None = None
"""The latest grading session of this process (``dlkit grade``'s grading process reads its record)."""


def _session(config: pytest.Config) -> GradingSession:
    global last_session
    if _SESSION_KEY not in config.stash:
        last_session = config.stash[_SESSION_KEY] = GradingSession(config)
    return config.stash[_SESSION_KEY]


_SESSION_KEY = pytest.StashKey[GradingSession]()


def recorded_results(config: pytest.Config) -> list[CheckResult]:
    """The checks' results recorded so far in this run, in the order they finished."""
    state = config.stash.get(_SESSION_KEY, None)
    return state.results if state is not None else []


def _graded_location(item: pytest.Item) -> tuple[str, str, str] | None:
    """(week, exercise, check) for an item that is a graded check, else None."""
    path = Path(str(item.path)).resolve()
    if path.parent.parent not in (CHECKS_ROOT, HIDDEN_ROOT) or not path.name.startswith("test_"):
        return None
    name = getattr(item, "originalname", item.name)
    return path.parent.name, path.stem[len("test_"):], name[len("test_"):]


def _may_select(path: Path, config: pytest.Config) -> bool:
    """Whether ``-k`` can select any declared check of the check module at ``path`` (True when unsure).

    Lets ``pytest autograder -k week1`` skip importing week 2's check modules: the keywords a check
    item matches are its function's, its module's and its folders' names, all known from exercises.toml.
    """
    expression = config.getoption("keyword", "")
    if not expression or path.parent.parent not in (CHECKS_ROOT, HIDDEN_ROOT) or not path.name.startswith("test_"):
        return True
    try:
        from _pytest.mark import KeywordMatcher
        from _pytest.mark.expression import Expression

        checks = load_spec()[path.parent.name][path.stem.removeprefix("test_")].checks
        compiled = Expression.compile(expression)
    except Exception:  # noqa: BLE001 - pytest's internals moved, or an undeclared module: collect it
        return True
    folders = {part for part in path.relative_to(path.parent.parent.parent).parent.parts}
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
        in_hidden = Path(str(item.path)).resolve().parent.parent == HIDDEN_ROOT
        if spec.hidden != in_hidden:
            raise pytest.UsageError(
                f"kit error: check {spec.id} is {'' if spec.hidden else 'not '}hidden in exercises.toml but lives in "
                f"{item.path}; hidden checks live in dlkit/hidden/{spec.week}/, the others in autograder/{spec.week}/")
        item.stash[CHECK_KEY] = spec
        item.repr_failure = item._repr_failure_py = _plain_failure  # the report gets the check's own words
        graded += 1
    if graded:
        state = _session(config)
        if batch_plugin(config) is None:
            state.start_zygote()  # it warms up while the first checks are prepared
        for item in items:
            if CHECK_KEY in item.stash:
                item.stash[SEED_KEY] = check_seed(item.stash[CHECK_KEY].id, state.settings.class_seed)
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
        torch.random.default_generator.manual_seed(seed)  # torch.manual_seed also queues lazy seeds for
        if torch.cuda.is_available():                     # XPU and MTIA, with a stack trace each (3 ms)
            torch.cuda.manual_seed_all(seed)
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
    """The student's files for this check's week (imported in the worker)."""
    state = _session(request.config)
    spec = _item_spec(request)
    if state.timed_out:
        fail(_("not run: {reason}", reason=state.timed_out))
    crashes = state.crashes.get((spec.week, spec.exercise), 0)
    if crashes >= CRASHES_PER_EXERCISE:
        fail(_("not run: the grading process crashed in {crashes} of {exercise}'s checks, so the rest were left out",
               crashes=crashes, exercise=spec.exercise))
    client = state.client(spec.week)
    client.pending_seed = request.node.stash[SEED_KEY]
    return state.submission(spec.week)


@pytest.fixture
def student(request: pytest.FixtureRequest, submission: Submission):
    """The student's module for this check's exercise (e.g. ``week1/spiral.py``), in the worker."""
    return submission.load(_item_spec(request).exercise)


@pytest.fixture
def worker(request: pytest.FixtureRequest, submission: Submission) -> WorkerClient:
    """The worker that holds the student's code: ``worker.module("torch")``, ``worker.build(model)``."""
    return submission.client


@pytest.fixture
def oracle(request: pytest.FixtureRequest) -> Oracle:
    """What this check learns from the reference solution (:mod:`autograder.oracle`): the live reference
    in the kit, values recorded at release time in a student's handout."""
    spec = _item_spec(request)
    return _session(request.config).oracle(spec.id)


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
    """This check's exercise metadata (thresholds, budgets); with a class seed, every budget's ``seed``
    (training data and order) is derived from it and the exercise's name."""
    spec = _item_spec(request)
    exercise = exercise_spec(spec.week, spec.exercise)
    class_seed = _session(request.config).settings.class_seed
    if class_seed is None:
        return exercise
    budgets = {profile: {**budget, "seed": check_seed(f"{spec.week}/{spec.exercise}/budget", class_seed)}
               if "seed" in budget else budget for profile, budget in exercise.budgets.items()}
    return dataclasses.replace(exercise, budgets=budgets)


@pytest.fixture
def data_root(grading_settings):
    """The explicit data root, or ``None`` for the data layer's default."""
    return grading_settings.data_root


def _check_clock(item: pytest.Item) -> CheckClock | None:
    """The item's time limit, shared by its fixture setup (where the student's file is imported) and its
    call; in ``dlkit grade``, never past the submission's own deadline."""
    spec = item.stash.get(CHECK_KEY, None)
    if spec is None:
        return None
    if CLOCK_KEY not in item.stash:
        settings = _session(item.config).settings
        seconds = settings.check_timeout
        if seconds is None:
            seconds = exercise_spec(spec.week, spec.exercise).timeout_s[settings.profile]
        clock = CheckClock(seconds, f"the check {spec.name}")
        batch = batch_plugin(item.config)
        if batch is not None:
            left = max(0.001, batch.seconds_left())
            if not seconds or left < seconds:
                clock = CheckClock(left, f"the check {spec.name}")
                clock.submission_limit = batch.config["timeout_s"]
        item.stash[CLOCK_KEY] = clock
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


def pytest_runtest_teardown(item: pytest.Item, nextitem) -> None:
    spec = item.stash.get(CHECK_KEY, None)
    state = item.config.stash.get(_SESSION_KEY, None)
    if spec is not None and state is not None and spec.week in state.clients:
        client = state.clients[spec.week]
        client.pending_seed = None
        client.release_created()


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(_SESSION_KEY, None)
    if state is not None:
        state.close()


def _ran_out(error: BaseException) -> bool:
    """The check's clock ran out (in this process, or in the worker's own timer)."""
    from autograder.probe.client import RemoteError

    return isinstance(error, CheckTimeout) or (isinstance(error, RemoteError) and error.timed_out)


def _cause(error: BaseException) -> str:
    """The shared cause of a failure (see :attr:`CheckResult.cause`), or ``""`` for the check's own."""
    if isinstance(error, StudentCodeError):
        return f"module {error.file}"
    if isinstance(error, DataError):
        return f"data {error.dataset or 'data set'}"
    return ""


def _plain_failure(excinfo: pytest.ExceptionInfo, style=None) -> str:
    """What pytest would format as a traceback, for a check whose report :func:`pytest_runtest_makereport`
    rewrites in the check's own words anyway (formatting cost 10 ms a failed check, filtering frames)."""
    return f"{excinfo.typename}: {excinfo.value}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    spec = item.stash.get(CHECK_KEY, None)
    if spec is None:
        return
    report = outcome.get_result()
    state = _session(item.config)
    message, cause = "", ""
    waiting = report.failed and call.excinfo is not None and isinstance(call.excinfo.value, (Pending, NotRecorded))
    if waiting:  # decided by dlkit grade: not a failure here
        message = call.excinfo.value.message if isinstance(call.excinfo.value, Pending) else \
            _("checked against the reference after submission (this handout has no recorded value for it)")
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, render(_("pending: {message}", message=message)))
    elif report.failed and call.excinfo is not None:
        error = call.excinfo.value
        clock = item.stash.get(CLOCK_KEY, None)
        message = describe(error, check=spec.name, seconds=clock.seconds if clock is not None else None)
        cause = _cause(error)
        limit = getattr(clock, "submission_limit", None)
        if limit is not None and _ran_out(error) and not state.timed_out:
            message = _("stopped: the time limit ({limit:g} s) ran out here", limit=limit)
            state.timed_out = _("timed out after {limit:g} s during {check}", limit=limit,
                                check=f"{spec.exercise}/{spec.name}")
            state.problems.append(("timeout", state.timed_out))
        report.longrepr = render(message)
        if isinstance(error, WorkerDied):
            key = (spec.week, spec.exercise)
            state.crashes[key] = state.crashes.get(key, 0) + 1
            state.problems.append((error.kind, _("{check}: the grading process {reason}",
                                                 check=f"{spec.exercise}/{spec.name}", reason=error.reason)))
    final = (report.when == "setup" and report.failed) or report.when == "call"
    if final:
        passed = report.passed
        status = PENDING if waiting else PASSED if passed else FAILED
        state.results.append(
            CheckResult(spec.week, spec.exercise, spec.name, spec.points, spec.points if passed else 0.0,
                        status, render(message), item.stash[SEED_KEY], spec.visibility, cause, message or None)
        )


def _titles() -> dict[str, str]:
    return {f"{week}/{name}": ex.title for week, exercises in load_spec().items() for name, ex in exercises.items()}


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    state = config.stash.get(_SESSION_KEY, None)
    if state is None or not state.results:
        return
    settings = state.settings
    provenance = current_provenance(settings.device, settings.profile, settings.threads, settings.class_seed)
    title = str(_("dlkit points"))
    wide = display_width(title) - len(title)  # pytest counts a Chinese character as one column, it takes two
    terminalreporter.write_sep("=", title, fullwidth=terminalreporter._tw.fullwidth - wide)
    terminalreporter.write_line(format_table(state.results, provenance, _titles()))
    ran = {r.id for r in state.results}
    exercises = {(r.week, r.exercise) for r in state.results}
    hidden = sum(c.points for (week, exercise) in exercises for c in exercise_spec(week, exercise).checks.values()
                 if c.hidden and c.id not in ran)
    if hidden:
        terminalreporter.write_line(str(n_(
            "Not run here: hidden checks worth {points:g} point, run only when your submission is graded.",
            "Not run here: hidden checks worth {points:g} points, run only when your submission is graded.",
            int(hidden), points=hidden)))
    if settings.results_json is not None:
        write_json_atomically(gradescope_json(state.results, provenance), settings.results_json)
        terminalreporter.write_line(str(_("results written to {path}", path=str(settings.results_json))))
