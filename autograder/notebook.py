"""Running an exercise's checks from a notebook cell: the link between nbgrader and the kit.

Every autograder test cell of a week's notebook is exactly::

    from autograder.notebook import run_checks
    run_checks("week1", "tensor_ops")

worth, in nbgrader, the sum of that exercise's points in ``exercises.toml`` (``dlkit release``
refuses a notebook where it is not). ``run_checks`` runs the same checks as
``pytest autograder`` on the files next to the notebook, and returns the points earned.
Because the call is the cell's last expression, that number is the cell's output, and
nbgrader's autograde records it as the cell's partial credit: the gradebook gets the same
points as ``pytest autograder``, check by check.

Robust to what nbgrader counts as failure: nbgrader gives a cell zero when *anything* in it
is written to stderr (a PyTorch ``UserWarning`` would zero a correct answer). The checks run
in a child process whose stdout and stderr are captured, C-level writes and Python warnings
included; the cell itself prints only the points table, to stdout. A run in which no check
passes raises :class:`ChecksFailed` (zero points either way, and the cell shows as failed);
a run that could not check at all raises :class:`KitError`.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from autograder.i18n import Said, _, current_language, render

CHECKS_ROOT = Path(__file__).resolve().parent
OUTPUT_TAIL = 3000  # characters of pytest's output shown when the checks could not run


class ChecksFailed(Said, AssertionError):
    """No check of the exercise passed; ``message`` (an :mod:`autograder.i18n` message) says so."""


class KitError(Said, RuntimeError):
    """The checks could not be run (not the student's fault); ``message`` (an :mod:`autograder.i18n`
    message) says why."""


def _short_tracebacks_in_ipython() -> None:
    """Show :class:`ChecksFailed` / :class:`KitError` in a notebook as one line, not a traceback
    into the kit (still an error output, which nbgrader grades as zero)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_dlkit_short_tracebacks", False):
        return

    def one_line(shell, etype, value, tb, tb_offset=None):
        message = f"{etype.__name__}: {value}"
        shell._showtraceback(etype, value, [message])
        return [message]

    shell.set_custom_exc((ChecksFailed, KitError), one_line)
    shell._dlkit_short_tracebacks = True


def _submission_root(folder: Path, week: str, scratch: Path) -> Path:
    """A folder whose ``<week>/`` is ``folder``: its parent when the names match, else a link."""
    if folder.name == week:
        return folder.parent
    root = scratch / "submission"
    root.mkdir()
    try:
        (root / week).symlink_to(folder, target_is_directory=True)
    except OSError:  # no symlinks (e.g. Windows without developer mode): copy the files
        shutil.copytree(folder, root / week, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return root


def _pytest_command(checks: Path, root: Path, results: Path) -> list[str]:
    kit = CHECKS_ROOT.parent
    command = [sys.executable, "-m", "pytest", str(checks), "-p", "autograder.plugin", "-p", "no:cacheprovider",
               "-q", "--rootdir", str(kit), f"--submission={root}", f"--results-json={results}"]
    if (kit / "pyproject.toml").is_file():  # the kit's own settings, never an ini file in the student's folder
        command += ["-c", str(kit / "pyproject.toml")]
    return command


def _child_environment() -> dict[str, str]:
    env = dict(os.environ)
    kit = str(CHECKS_ROOT.parent)
    env["PYTHONPATH"] = kit + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the kit's plugin only, as `dlkit grade` runs the checks
    env["DLKIT_LANG"] = current_language()  # the checks speak the notebook's language
    env.pop("DLKIT_SUBMISSION", None)
    env.pop("DLKIT_RESULTS_JSON", None)
    return env


def _tail(text: str) -> str:
    return text if len(text) <= OUTPUT_TAIL else "..." + text[-OUTPUT_TAIL:]


def collect_results(week: str, exercise: str, folder: Path, timeout: float | None = None):
    """Run ``pytest`` on the exercise's checks against ``folder`` in a child process.

    Returns (results of this exercise, provenance dict, pytest's combined output).
    """
    from autograder.results import read_results

    checks = CHECKS_ROOT / week / f"test_{exercise}.py"
    if not checks.is_file():
        raise KitError(_("no checks for {week}/{exercise}: {checks} does not exist", week=week, exercise=exercise,
                         checks=str(checks)))
    if not folder.is_dir():
        raise KitError(_("{folder} is not a folder", folder=str(folder)))
    with tempfile.TemporaryDirectory(prefix="dlkit-checks-") as scratch:
        scratch = Path(scratch)
        root = _submission_root(folder.resolve(), week, scratch)
        results_path = scratch / "results.json"
        try:
            completed = subprocess.run(
                _pytest_command(checks, root, results_path), cwd=scratch, env=_child_environment(),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise KitError(_("the checks of {week}/{exercise} did not finish within {timeout} s", week=week,
                             exercise=exercise, timeout=timeout)) from None
        if not results_path.is_file():
            raise KitError(_("the checks of {week}/{exercise} did not run (pytest exit code {code}):\n{output}",
                             week=week, exercise=exercise, code=completed.returncode,
                             output=_tail(completed.stdout)))
        results, provenance = read_results(results_path)
    return [r for r in results if (r.week, r.exercise) == (week, exercise)], provenance, completed.stdout


def run_checks(week: str, exercise: str, folder: str | os.PathLike | None = None, *,
               timeout: float | None = None) -> float:
    """Run ``<week>/<exercise>``'s checks on the files in ``folder`` (default: the current folder,
    which is the notebook's); print the points table and return the points earned.

    Raises :class:`ChecksFailed` when no check passed, :class:`KitError` when the checks could
    not run. Writes nothing to stderr.
    """
    _short_tracebacks_in_ipython()
    from autograder.report import format_table
    from autograder.results import Provenance, total
    from autograder.spec import SpecError, exercise_spec

    captured = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(captured):
        warnings.simplefilter("always")
        try:
            spec = exercise_spec(week, exercise)
        except SpecError as error:
            raise KitError(getattr(error, "message", None) or str(error)) from None
        possible = sum(check.points for check in spec.public_checks.values())
        folder = Path(folder) if folder is not None else Path.cwd()
        results, provenance, output = collect_results(week, exercise, folder, timeout)
    for warning in caught:  # kit-side warnings (never the student's: their code ran in the child)
        print(render(_("(warning) {category}: {message}", category=warning.category.__name__,
                       message=str(warning.message))))
    if captured.getvalue().strip():
        print(captured.getvalue().rstrip())
    earned, ran = total(results)
    if ran != possible:
        raise KitError(_("{week}/{exercise}: the checks that ran are worth {ran:g} points, exercises.toml declares "
                         "{possible:g}; pytest said:\n{output}", week=week, exercise=exercise, ran=ran,
                         possible=possible, output=_tail(output)))
    titles = {f"{week}/{exercise}": spec.title}
    print(format_table(results, Provenance(**provenance), titles))
    if possible > 0 and earned == 0:
        raise ChecksFailed(_("{week}/{exercise}: no check passed (0 / {possible:g} points); the table above "
                             "says what each check expected", week=week, exercise=exercise, possible=possible))
    return float(earned)
