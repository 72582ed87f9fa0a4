"""The release pipeline: ``solutions/<week>/`` -> ``assignments/<week>/``.

Each step is a small function with the facts it needs and the fact it gives; :data:`PIPELINE`
lists them in order, and :func:`check_order` (run on import and before every build) refuses an
order in which a step would run before what it needs. The steps fill a fresh temporary folder;
only a finished, leak-checked folder is swapped into ``assignments/<week>/``.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from autograder.i18n import Said, _, render
from dlkit.release import markers, notebooks
from dlkit.release.markers import MarkerError
from autograder.settings import KIT_ROOT

SOLUTIONS_ROOT = KIT_ROOT / "solutions"
ASSIGNMENTS_ROOT = KIT_ROOT / "assignments"
WEEK_PATTERN = re.compile(r"^week\d+$")
IGNORED = (".ipynb_checkpoints", "__pycache__", ".DS_Store")
IGNORED_SUFFIXES = (".pyc", ".pyo")
# A solution line this short, or of one of these shapes, is not evidence of a leak: `pass`,
# `return x`, `else:`, lone brackets. Everything else inside a region is searched for.
MIN_DISTINCTIVE_CHARS = 12
TRIVIAL_LINE = re.compile(r"^(?:pass|continue|break|raise|return|else:|try:|finally:|return\s+[\w.]+|[\w.]+|[\W_]*)$")


class ReleaseError(Said, RuntimeError):
    """The release could not be generated; ``assignments/`` was left as it was. ``message`` is an
    :mod:`autograder.i18n` message."""


MARKER_LEFT = "a marker left in the release"
"""A :class:`Leak`'s source when the leaked line is a marker."""


@dataclass(frozen=True)
class Leak:
    """A line of a solution region that appears in the release."""

    release_file: str
    """Release file (relative to the week folder) and line, e.g. ``spiral.py:12``."""
    source: str
    """Where the line is in the solutions, e.g. ``solutions/week1/spiral.py, line 40``."""
    text: str
    """The line, stripped."""

    def __str__(self) -> str:
        source = _("a marker left in the release") if self.source == MARKER_LEFT else self.source
        return render(_("{file}: {text} (from {source})", file=self.release_file, text=repr(self.text),
                        source=source))


@dataclass
class Build:
    """One week's release being built."""

    week: str
    """Week folder name, e.g. ``"week1"``."""
    source: Path
    """``solutions/<week>/``."""
    output: Path
    """Temporary folder that becomes ``assignments/<week>/``."""
    course: Path
    """nbgrader course directory (temporary unless the caller keeps one)."""
    label: str = ""
    """How the source folder is named in messages, e.g. ``solutions/week1``."""
    files: list[str] = field(default_factory=list)
    """Source files, relative to ``source``, sorted."""
    solution_lines: list[tuple[str, str]] = field(default_factory=list)
    """(where, stripped text) of every line inside a solution or hidden-test region."""
    visible_lines: set[str] = field(default_factory=set)
    """Stripped lines of the sources outside any region (shown to students on purpose)."""
    test_cells: list[tuple[str, str, float]] = field(default_factory=list)
    """(notebook, exercise, points) of each ``run_checks`` test cell."""
    facts: set[str] = field(default_factory=set)
    """What the steps run so far have established."""

    def where(self, relative: str) -> str:
        return f"{self.label or self.source}/{relative}"

    @property
    def notebooks(self) -> list[str]:
        return [f for f in self.files if f.endswith(".ipynb")]

    @property
    def modules(self) -> list[str]:
        return [f for f in self.files if f.endswith(".py")]

    @property
    def other_files(self) -> list[str]:
        return [f for f in self.files if not f.endswith((".py", ".ipynb"))]


@dataclass(frozen=True)
class Step:
    """One step of the release pipeline."""

    name: str
    """Short name shown in errors."""
    run: Callable[[Build], None]
    """Does the work on the build."""
    needs: tuple[str, ...]
    """Facts earlier steps must have given."""
    gives: str
    """The fact this step establishes."""


def _is_ignored(path: Path) -> bool:
    return any(part in IGNORED for part in path.parts) or path.suffix in IGNORED_SUFFIXES


def collect_sources(build: Build) -> None:
    """List the week's source files (caches and checkpoints left out)."""
    if not build.source.is_dir():
        raise ReleaseError(_("{folder} does not exist", folder=build.where("")))
    build.files = sorted(
        p.relative_to(build.source).as_posix() for p in build.source.rglob("*")
        if p.is_file() and not _is_ignored(p.relative_to(build.source))
    )


def _record_lines(build: Build, where: str, lines: list[str], secret: list[tuple[int, str]], marked: set[int]) -> None:
    build.solution_lines += [(f"{where}, line {n}", text.strip()) for n, text in secret]
    build.visible_lines.update(line.strip() for n, line in enumerate(lines, start=1) if n not in marked)


def scan_markers(build: Build) -> None:
    """Check every marker of every source file; remember solution lines for the leak check."""
    for relative in build.files:
        path = build.source / relative
        where = build.where(relative)
        if relative.endswith(".py"):
            text = path.read_text(encoding="utf-8")
            regions = markers.scan(text, where, release_as=True, hidden_tests=False)
            lines = text.split("\n")
            _record_lines(build, where, lines, regions.solution_lines(lines), regions.marked_lines())
        elif relative.endswith(".ipynb"):
            for cell in notebooks.scan_notebook(notebooks.read_notebook_json(path), where):
                lines = cell.source.split("\n")
                marked = set(range(1, len(lines) + 1)) if cell.whole_cell_is_solution else cell.regions.marked_lines()
                _record_lines(build, cell.where, lines, cell.solution_lines(), marked)
        else:
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue  # binary data: copied as it is
            for number, line in enumerate(text.split("\n"), start=1):
                if any(marker in line for marker in markers.NBGRADER_DELIMITERS + ("RELEASE AS:",)):
                    raise MarkerError(where, number, _("markers are only processed in .py modules and notebooks; "
                                                       "this file would be released as it is"), line)


def check_test_cells(build: Build) -> None:
    """Every ``run_checks`` test cell is worth its exercise's points and ends with the call."""
    for relative in build.notebooks:
        nb = notebooks.read_notebook_json(build.source / relative)
        build.test_cells += [(relative, exercise, points) for _, exercise, points
                             in notebooks.check_test_cells(nb, build.where(relative), build.week)]


def stage_course(build: Build) -> None:
    """Copy the notebooks (ids made stable) and data files into the course's ``source/<week>``.

    The ``.py`` modules stay out: nbgrader would release them verbatim, and autograde would copy
    them over the student's.
    """
    staged = build.course / "source" / build.week
    if staged.exists():
        shutil.rmtree(staged)
    staged.mkdir(parents=True)
    for relative in build.notebooks:
        target = staged / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        nb = notebooks.with_stable_ids(notebooks.read_notebook_json(build.source / relative))
        notebooks.write_notebook_json(nb, target)
    for relative in build.other_files:
        target = staged / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(build.source / relative, target)


def run_nbgrader(build: Build) -> None:
    """nbgrader generate_assignment: ``source/<week>`` -> ``release/<week>`` (skipped without notebooks)."""
    if build.notebooks:
        notebooks.generate_assignment(build.course, build.week)


def write_notebooks(build: Build) -> None:
    """nbgrader's release notebooks, volatile metadata stripped, into the output."""
    released = build.course / "release" / build.week
    for relative in build.notebooks:
        produced = released / relative
        if not produced.is_file():
            raise ReleaseError(_("nbgrader did not produce {file} for {week}", file=relative, week=build.week))
        target = build.output / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        notebooks.write_notebook_json(notebooks.normalised_release_notebook(produced), target)


def write_other_files(build: Build) -> None:
    """Data files, byte for byte."""
    for relative in build.other_files:
        target = build.output / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(build.source / relative, target)


def write_modules(build: Build) -> None:
    """``.py`` modules with planted code in and solution regions out."""
    for relative in build.modules:
        text = (build.source / relative).read_text(encoding="utf-8")
        target = build.output / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="") as f:
            f.write(markers.clear_module(text, build.where(relative)))


def is_distinctive(line: str) -> bool:
    """Whether a stripped solution line is specific enough that finding it in a release is a leak."""
    return len(line.replace(" ", "")) >= MIN_DISTINCTIVE_CHARS and not TRIVIAL_LINE.match(line)


def release_lines(folder: Path) -> list[tuple[str, str]]:
    """(``file:line``, stripped text) of every line a student sees in a release folder: module and
    text lines, and notebook cell sources (and outputs, if any slipped through)."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if path.suffix == ".ipynb":
            nb = notebooks.read_notebook_json(path)
            for index, cell in enumerate(nb.get("cells", [])):
                texts = [notebooks._source(cell)]
                for output in cell.get("outputs", []):
                    texts.append("".join(output.get("text", "")))
                    texts += ["".join(v) if isinstance(v, list) else str(v) for v in output.get("data", {}).values()]
                for text in texts:
                    found += [(f"{relative}, cell {index + 1}, line {n}", line.strip())
                              for n, line in enumerate(text.split("\n"), start=1)]
        else:
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            found += [(f"{relative}:{n}", line.strip()) for n, line in enumerate(text.split("\n"), start=1)]
    return found


def find_leaks(solution_lines: list[tuple[str, str]], visible_lines: set[str], release: Path) -> list[Leak]:
    """Solution lines (distinctive, and not also shown outside a region) found in ``release``;
    also any marker left in it."""
    secret: dict[str, str] = {}
    for where, text in solution_lines:
        if is_distinctive(text) and text not in visible_lines:
            secret.setdefault(text, where)
    leaks = []
    residue = markers.NBGRADER_DELIMITERS + ("RELEASE AS:",)
    for location, text in release_lines(release):
        if text in secret:
            leaks.append(Leak(location, secret[text], text))
        elif any(marker in text for marker in residue):
            leaks.append(Leak(location, MARKER_LEFT, text))
    return leaks


def secret_lines(source: Path, label: str = "") -> tuple[list[tuple[str, str]], set[str]]:
    """(solution lines with where they are, lines shown outside regions) of a week's sources,
    found exactly as the release pipeline finds them."""
    build = Build(Path(source).name, Path(source), Path(source), Path(source), label)
    collect_sources(build)
    scan_markers(build)
    return build.solution_lines, build.visible_lines


def check_leaks(build: Build) -> None:
    """Refuse a release that contains a solution line or a marker."""
    leaks = find_leaks(build.solution_lines, build.visible_lines, build.output)
    if leaks:
        listed = "\n".join(f"  {leak}" for leak in leaks)
        raise ReleaseError(_("the release of {week} would leak solution lines:\n{leaks}", week=build.week,
                             leaks=listed))


PIPELINE: tuple[Step, ...] = (
    Step("collect", collect_sources, needs=(), gives="sources"),
    Step("markers", scan_markers, needs=("sources",), gives="markers ok"),
    Step("test cells", check_test_cells, needs=("sources",), gives="test cells ok"),
    Step("stage", stage_course, needs=("markers ok", "test cells ok"), gives="course staged"),
    Step("nbgrader", run_nbgrader, needs=("course staged",), gives="nbgrader release"),
    Step("notebooks", write_notebooks, needs=("nbgrader release",), gives="notebooks written"),
    Step("other files", write_other_files, needs=("markers ok",), gives="other files written"),
    Step("modules", write_modules, needs=("markers ok",), gives="modules written"),
    Step("leaks", check_leaks, needs=("notebooks written", "other files written", "modules written"),
         gives="leak free"),
)


def check_order(steps: tuple[Step, ...]) -> None:
    """Raise :class:`ReleaseError` if a step needs a fact no earlier step gives."""
    given: set[str] = set()
    for step in steps:
        missing = [need for need in step.needs if need not in given]
        if missing:
            raise ReleaseError(_("release step {step} needs {facts}, which no earlier step gives",
                                 step=repr(step.name), facts=", ".join(missing)))
        given.add(step.gives)
    if "leak free" not in given:
        raise ReleaseError(_("the release pipeline has no leak check"))


check_order(PIPELINE)


def build_release(week: str, source: Path, output: Path, course: Path, label: str = "",
                  steps: tuple[Step, ...] = PIPELINE) -> Build:
    """Run every step for one week: ``source`` -> ``output`` (which must be empty or absent)."""
    check_order(steps)
    output.mkdir(parents=True, exist_ok=True)
    build = Build(week, Path(source), Path(output), Path(course), label)
    for step in steps:
        step.run(build)
        build.facts.add(step.gives)
    return build


@dataclass(frozen=True)
class Difference:
    """A file that differs between two release folders."""

    path: str
    """Relative path."""
    kind: str
    """``"differs"``, ``"missing"`` (expected but not there) or ``"extra"`` (there but not expected)."""

    def __str__(self) -> str:
        return f"{self.path} ({self.kind})"


def _files(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
            and not _is_ignored(p.relative_to(folder))}


def compare_folders(expected: Path, actual: Path) -> list[Difference]:
    """Byte-level differences of ``actual`` from ``expected``, sorted by path."""
    want, have = _files(expected), _files(actual)
    differences = [Difference(p, "missing") for p in want - have]
    differences += [Difference(p, "extra") for p in have - want]
    differences += [Difference(p, "differs") for p in want & have
                    if not filecmp.cmp(expected / p, actual / p, shallow=False)]
    return sorted(differences, key=lambda d: d.path)


def install(built: Path, destination: Path) -> list[str]:
    """Swap ``built`` in as ``destination`` (same filesystem); return files that were removed
    because they have no source any more.

    ``built`` is renamed into place; the old folder is renamed aside first and deleted last, so a
    reader sees the old release or the new one, never a half-written one.
    """
    removed = sorted(_files(destination) - _files(built))
    destination.parent.mkdir(parents=True, exist_ok=True)
    aside = None
    if destination.exists():
        aside = Path(tempfile.mkdtemp(prefix=f".{destination.name}.old-", dir=destination.parent))
        os.rmdir(aside)
        os.replace(destination, aside)
    try:
        os.replace(built, destination)
    except BaseException:
        if aside is not None:
            os.replace(aside, destination)
        raise
    if aside is not None:
        shutil.rmtree(aside)
    return removed


@dataclass
class WeekResult:
    """What releasing one week did (or, with ``check``, would do)."""

    week: str
    """Week folder name."""
    files: list[str]
    """Files of the generated release."""
    removed: list[str] = field(default_factory=list)
    """Files deleted from ``assignments/<week>`` because they no longer have a source."""
    differences: list[Difference] = field(default_factory=list)
    """With ``check``: how the committed release differs from a fresh generation."""


def weeks_in(solutions: Path = SOLUTIONS_ROOT) -> list[str]:
    """Week folders under ``solutions`` (``week1``, ``week2``, ...), in numeric order."""
    weeks = [p.name for p in Path(solutions).iterdir() if p.is_dir() and WEEK_PATTERN.match(p.name)]
    return sorted(weeks, key=lambda w: int(w[4:]))


def release_week(week: str, solutions: Path = SOLUTIONS_ROOT, assignments: Path = ASSIGNMENTS_ROOT,
                 check: bool = False, course: Path | None = None) -> WeekResult:
    """Generate ``assignments/<week>`` from ``solutions/<week>``.

    ``check``: compare with the committed release instead of writing it. ``course``: keep the
    nbgrader course directory there (``source/<week>``, ``release/<week>``, ``gradebook.db``) for
    grading with ``nbgrader``; by default a temporary one is used and discarded.
    """
    solutions, assignments = Path(solutions).resolve(), Path(assignments).resolve()
    source, destination = solutions / week, assignments / week
    label = f"{solutions.name}/{week}"
    try:
        label = (solutions / week).relative_to(KIT_ROOT).as_posix()
    except ValueError:
        pass
    # the new release is built next to its destination, so the final rename stays on one filesystem
    if not check:
        assignments.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{week}.new-", dir=None if check else assignments) as work:
        work = Path(work)
        course_root = Path(course).resolve() if course is not None else work / "course"
        built = work / week
        build_release(week, source, built, course_root, label)
        files = sorted(_files(built))
        if check:
            return WeekResult(week, files, differences=compare_folders(built, destination))
        removed = install(built, destination)
        return WeekResult(week, files, removed=removed)
