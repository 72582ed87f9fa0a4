"""Notebooks: checking their markers and test cells, and running nbgrader's generate_assignment.

nbgrader does the notebook work itself (clear solution regions, lock read-only cells, compute
checksums, record cells in the gradebook, remove hidden tests). Around it the kit:

* checks every cell's markers with :func:`dlkit.release.markers.scan` first, so a
  near-miss fails naming notebook, cell and line instead of leaking;
* checks that an autograder test cell calling ``run_checks(week, exercise)`` is worth exactly
  the exercise's points in ``exercises.toml`` and ends with that call (its value is the
  partial credit nbgrader records);
* gives cells without an id a deterministic one before nbgrader reads them (nbformat would
  invent random ones) and strips volatile metadata afterwards, so regeneration is
  byte-identical.

The nbgrader settings shared by the release and by instructors who call ``nbgrader`` directly
(through the repository's ``nbgrader_config.py``) are in :func:`nbgrader_config`.
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from autograder.i18n import Said, _, join
from dlkit.release.markers import MarkerError, Regions, scan

NOTEBOOK_ID_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # nbformat 4.5 cell ids
VOLATILE_CELL_METADATA = ("ExecuteTime", "execution", "collapsed", "scrolled", "jupyter", "trusted")
VOLATILE_NOTEBOOK_METADATA = ("widgets", "toc", "varInspector", "vscode", "celltoolbar", "colab")
RUN_CHECKS = "run_checks"
# Seconds one cell may run under ``nbgrader autograde``: a test cell runs the exercise's checks,
# training included (quick profile on CPU, full profile on a GPU).
AUTOGRADE_CELL_TIMEOUT = 1200


class NbgraderError(Said, RuntimeError):
    """nbgrader refused a notebook; ``message`` (an :mod:`autograder.i18n` message) carries its log."""


def nbgrader_config(root: Path):
    """nbgrader settings for a course directory at ``root`` (a ``traitlets`` ``Config``).

    Used by the release (on a temporary course directory) and by ``nbgrader_config.py``.
    """
    from traitlets.config import Config

    from autograder.spec import load_spec

    c = Config()
    c.CourseDirectory.root = str(Path(root).resolve())
    c.CourseDirectory.course_id = "dlkit"
    # Autograde copies every non-notebook file of source/<week> over the student's files. The kit
    # never stages .py modules into source/, and this keeps a student's exercise files theirs
    # even if someone does.
    c.Autograde.exclude_overwriting = {
        week: sorted(exercise.file for exercise in exercises.values()) for week, exercises in load_spec().items()
    }
    c.Execute.timeout = AUTOGRADE_CELL_TIMEOUT
    return c


def check_nbgrader_order(preprocessors: list) -> None:
    """Refuse a generate_assignment pipeline whose order would leak or break checksums.

    nbgrader states this order only in a comment ("ClearHiddenTests must come after
    ComputeChecksums and SaveCells. ComputeChecksums must come again after ClearHiddenTests").
    """
    names = [p if isinstance(p, str) else p.__name__ for p in preprocessors]
    names = [n.rsplit(".", 1)[-1] for n in names]

    def first(name: str) -> int:
        return names.index(name) if name in names else -1

    problems = []
    for required in ("ClearSolutions", "SaveCells", "ClearHiddenTests", "ComputeChecksums", "LockCells"):
        if required not in names:
            problems.append(f"{required} is missing")
    if not problems:
        hidden = first("ClearHiddenTests")
        if not first("SaveCells") < hidden:
            problems.append(_("SaveCells must run before ClearHiddenTests (the gradebook keeps the hidden tests)"))
        if not first("ComputeChecksums") < hidden:
            problems.append(_("ComputeChecksums must run before ClearHiddenTests"))
        last_checksums = max(i for i, n in enumerate(names) if n == "ComputeChecksums")
        if not hidden < last_checksums:
            problems.append(_("ComputeChecksums must run again after ClearHiddenTests"))
        if not first("ClearSolutions") < first("SaveCells"):
            problems.append(_("ClearSolutions must run before SaveCells"))
    if problems:
        raise NbgraderError(_("GenerateAssignment.preprocessors is in an order the kit cannot use: {problems}",
                              problems=join(problems, "; ")))


def _nbgrader_meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _cell_where(where: str, index: int, cell: dict) -> str:
    grade_id = _nbgrader_meta(cell).get("grade_id")
    return f"{where}, cell {index + 1}" + (f" ({grade_id})" if grade_id else "")


@dataclass
class CellMarkers:
    """The markers of one notebook cell."""

    where: str
    """``<notebook>, cell <n> (<grade_id>)``."""
    source: str
    """The cell's source."""
    regions: Regions
    """Its solution and hidden-test regions."""
    whole_cell_is_solution: bool
    """A solution cell without regions: nbgrader replaces all of it."""

    def solution_lines(self) -> list[tuple[int, str]]:
        """(line, text) of every line of the cell the release must not contain."""
        lines = self.source.split("\n")
        if self.whole_cell_is_solution:
            return list(enumerate(lines, start=1))
        return self.regions.solution_lines(lines)


def read_notebook_json(path: Path) -> dict:
    """The notebook as plain JSON (no nbformat upgrades or invented ids)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def scan_notebook(nb: dict, where: str) -> list[CellMarkers]:
    """Check every cell's markers; raise :class:`MarkerError` naming notebook, cell and line."""
    cells = []
    for index, cell in enumerate(nb.get("cells", [])):
        cell_where = _cell_where(where, index, cell)
        meta = _nbgrader_meta(cell)
        source = _source(cell)
        regions = scan(source, cell_where, release_as=False, hidden_tests=bool(meta.get("grade")))
        if regions.solution and not meta.get("solution"):
            begin = regions.solution[0][0]
            raise MarkerError(cell_where, begin, _("Solution region detected in a non-solution cell (nbgrader's "
                                                   "error); mark the cell 'Autograded answer' or 'Manually graded "
                                                   "answer'"),
                              source.split("\n")[begin - 1])
        whole = bool(meta.get("solution")) and not regions.solution
        cells.append(CellMarkers(cell_where, source, regions, whole))
    return cells


def _run_checks_calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == RUN_CHECKS]


def _python_source(source: str) -> str:
    """Cell source without IPython magics/shell lines, which ``ast`` cannot parse."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))


def check_test_cells(nb: dict, where: str, week: str) -> list[tuple[str, str, float]]:
    """Check every cell that calls ``run_checks``; return (grade_id, exercise, points) of each.

    A ``run_checks`` cell must be an autograder test cell (nbgrader ``grade``, not ``solution``),
    call it with literal ``(week, exercise)`` for this week, be worth exactly the exercise's points
    in ``exercises.toml``, and end with the call (with and without its hidden tests), so the value
    it returns is the cell's partial credit.
    """
    from autograder.spec import SpecError, exercise_spec

    found = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        if RUN_CHECKS not in source:
            continue
        cell_where = _cell_where(where, index, cell)
        try:
            tree = ast.parse(_python_source(source))
        except SyntaxError as error:
            raise MarkerError(cell_where, error.lineno or 1, _("cannot parse the test cell: {error}",
                                                               error=error.msg)) from None
        calls = _run_checks_calls(tree)
        if not calls:
            continue
        meta = _nbgrader_meta(cell)
        first = calls[0]
        if not meta.get("grade") or meta.get("solution"):
            raise MarkerError(cell_where, first.lineno, _("{call}(...) must be in an autograder test cell (nbgrader: "
                                                          "grade, not solution), or its points never reach the "
                                                          "gradebook", call=RUN_CHECKS))
        if len(calls) != 1:
            raise MarkerError(cell_where, calls[1].lineno, _("one {call}(...) per test cell, so the cell's points "
                                                             "are one exercise's points", call=RUN_CHECKS))
        args = first.args
        if len(args) != 2 or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
            example = f'{RUN_CHECKS}("{week}", "<exercise>")'
            raise MarkerError(cell_where, first.lineno, _("call {call} with two literal strings: {example}",
                                                          call=RUN_CHECKS, example=example))
        call_week, exercise = (a.value for a in args)
        if call_week != week:
            call = f"{RUN_CHECKS}({call_week!r}, ...)"
            raise MarkerError(cell_where, first.lineno, _("{call} in a notebook of {week}", call=call, week=week))
        try:
            spec = exercise_spec(week, exercise)
        except SpecError as error:
            raise MarkerError(cell_where, first.lineno, getattr(error, "message", None) or str(error)) from None
        expected = sum(check.points for check in spec.public_checks.values())  # the cell runs pytest autograder
        points = meta.get("points")
        if points is None or float(points) != expected:
            qualified = f"{week}.{exercise}"
            raise MarkerError(cell_where, first.lineno, _(
                "the test cell is worth {points} points in nbgrader, but {exercise}'s checks are worth {expected:g} "
                "in exercises.toml; set the cell's points to {expected:g}", points=str(points), exercise=qualified,
                expected=expected))
        released = _python_source(_without_hidden_tests(source))
        for hidden_removed, text in ((False, source), (True, released)):
            body = ast.parse(_python_source(text)).body
            last = body[-1] if body else None
            if not (isinstance(last, ast.Expr) and _run_checks_calls(last) == [last.value]):
                message = _("the test cell must end with the {call}(...) call once hidden tests are removed: its "
                            "value (the points earned) is the cell's partial credit", call=RUN_CHECKS) \
                    if hidden_removed else \
                    _("the test cell must end with the {call}(...) call: its value (the points earned) is the "
                      "cell's partial credit", call=RUN_CHECKS)
                raise MarkerError(cell_where, first.lineno, message)
        found.append((meta.get("grade_id", ""), exercise, expected))
    return found


def _without_hidden_tests(source: str) -> str:
    keep, hidden = [], False
    for line in source.split("\n"):
        if line.strip() == "### BEGIN HIDDEN TESTS":
            hidden = True
        elif line.strip() == "### END HIDDEN TESTS":
            hidden = False
        elif not hidden:
            keep.append(line)
    return "\n".join(keep)


def with_stable_ids(nb: dict) -> dict:
    """A copy in which every cell of an nbformat >= 4.5 notebook has an id: its own when valid and
    unique, else one derived from its nbgrader grade_id or position (never random)."""
    nb = copy.deepcopy(nb)
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) < (4, 5):
        return nb
    seen: set[str] = set()
    for index, cell in enumerate(nb.get("cells", [])):
        candidates = [cell.get("id"), _nbgrader_meta(cell).get("grade_id"), f"cell-{index + 1}"]
        for candidate in candidates:
            if isinstance(candidate, str) and NOTEBOOK_ID_PATTERN.match(candidate) and candidate not in seen:
                break
        else:
            candidate = f"cell-{index + 1}-{len(seen)}"
        cell["id"] = candidate
        seen.add(candidate)
    return nb


def write_notebook_json(nb: dict, path: Path) -> None:
    """Write a notebook the way nbformat does (one-space indent, sorted keys) plus a final newline."""
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": "))
    Path(path).write_text(text + "\n", encoding="utf-8")


def normalised_release_notebook(path: Path) -> dict:
    """nbgrader's release notebook without volatile metadata, its checksums verified unchanged."""
    from nbformat import from_dict
    from nbgrader.utils import compute_checksum

    nb = read_notebook_json(path)
    for key in VOLATILE_NOTEBOOK_METADATA:
        nb.get("metadata", {}).pop(key, None)
    for cell in nb.get("cells", []):
        metadata = cell.setdefault("metadata", {})
        for key in VOLATILE_CELL_METADATA:
            metadata.pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        checksum = _nbgrader_meta(cell).get("checksum")
        if checksum is not None and compute_checksum(from_dict({**cell, "source": _source(cell)})) != checksum:
            raise NbgraderError(_("{path}: normalising changed the checksum of cell {cell}; the kit must not touch "
                                  "what it covers", path=str(path), cell=repr(_nbgrader_meta(cell).get("grade_id"))))
    return nb


@functools.lru_cache(maxsize=None)
def _alembic_head() -> str:
    """The gradebook schema version nbgrader stamps on a new ``gradebook.db``, found in-process."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory
    from nbgrader import api

    with api._temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:
        return ScriptDirectory.from_config(AlembicConfig(ini)).get_current_head()


def _fast_new_gradebooks() -> None:
    """nbgrader runs the ``alembic heads`` command (several seconds) every time it creates a
    gradebook, for an answer that depends only on the installed nbgrader; ask alembic once,
    in-process, instead. Falls back to nbgrader's own way if alembic's API disagrees."""
    from nbgrader import api

    if getattr(api.get_alembic_version, "dlkit_in_process", False):
        return
    original = api.get_alembic_version
    try:
        _alembic_head()
    except Exception:  # pragma: no cover - an alembic without this API: keep nbgrader's way
        return

    def get_alembic_version() -> str:
        return _alembic_head()

    get_alembic_version.dlkit_in_process = True
    get_alembic_version.original = original
    api.get_alembic_version = get_alembic_version


def generate_assignment(course_root: Path, week: str) -> None:
    """Run nbgrader's generate_assignment for ``week`` in the course directory ``course_root``
    (``source/<week>`` -> ``release/<week>`` and ``gradebook.db``); raise :class:`NbgraderError`
    with nbgrader's log if it fails."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    _fast_new_gradebooks()
    config = nbgrader_config(course_root)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = week
    app = GenerateAssignment(coursedir=coursedir, config=config)
    check_nbgrader_order(list(app.preprocessors))
    app.force = True
    app.create_assignment = True
    result = capture_log(app)
    if not result["success"]:
        log = result.get("log", "").strip()
        error = result.get("error", "").strip().splitlines()
        raise NbgraderError(_("nbgrader generate_assignment {week} failed: {error}\n{log}", week=week,
                              error=error[-1] if error else "", log=log))
