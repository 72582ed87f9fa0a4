"""Solution markers: finding them, refusing near-misses, and clearing ``.py`` modules.

The rule is nbgrader's (``ClearSolutions``): a region between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` is replaced by ``# YOUR CODE HERE`` + ``raise NotImplementedError()`` at
the indentation of the BEGIN line. For ``.py`` modules the replacement itself is done by
nbgrader's own ``ClearSolutions._replace_solution_region`` (run on the module's text as if it
were one code cell), so a module and a notebook cell are cleared by the same code.

nbgrader finds a marker anywhere in a line (``"BEGIN SOLUTION" in line``) and ignores an
END without a BEGIN. The kit is stricter, and checks before clearing: a marker must be
exactly ``### BEGIN SOLUTION`` (etc.) on a line of its own, every region must be closed and
not nested, and a line that *looks* like a marker but is not exact (``## BEGIN SOLUTION``,
``### begin solution``, ``### BEGIN SOLUTON``) is an error naming file and line, because it
would otherwise leak the solution into the release.

A line ending in ``### RELEASE AS: <code>`` (``.py`` modules only) is replaced in the release by
``<code>`` at the line's indentation: the way to plant the lab's bugs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from autograder.i18n import _, render

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN_TESTS = "### BEGIN HIDDEN TESTS"
END_HIDDEN_TESTS = "### END HIDDEN TESTS"
RELEASE_AS = "### RELEASE AS:"

EXACT_MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS)
# What nbgrader itself looks for (a substring match): a line holding one of these that is not an
# exact marker would be acted on by nbgrader in a notebook, so the kit refuses it everywhere.
NBGRADER_DELIMITERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")

# "    code  ### RELEASE AS: release code"  or  "    ### RELEASE AS: release code"
_RELEASE_AS_LINE = re.compile(r"^(?P<indent>[ \t]*)(?:(?P<code>\S.*?)[ \t]+)?### RELEASE AS:(?P<release>.*)$")
_WORDS_AFTER_HASHES = re.compile(r"[\s:_\-]*([A-Za-z]+)(?:[\s_\-]*([A-Za-z]+))?(?:[\s_\-]*([A-Za-z]+))?(\s*:)?")
# Marker phrases a near-miss is compared with, and the exact form to suggest.
_PHRASES = (
    (("BEGIN", "SOLUTION"), BEGIN_SOLUTION),
    (("END", "SOLUTION"), END_SOLUTION),
    (("BEGIN", "HIDDEN", "TESTS"), BEGIN_HIDDEN_TESTS),
    (("END", "HIDDEN", "TESTS"), END_HIDDEN_TESTS),
    (("RELEASE", "AS"), "### RELEASE AS: <code> (at the end of the line it replaces)"),
)
_WORD_SIMILARITY = 0.8     # "SOLUTON" ~ "SOLUTION" (0.93), "BEGINNING" !~ "BEGIN" (0.71)
_JOINED_SIMILARITY = 0.85  # "BEGINSOLUTION" ~ "BEGIN SOLUTION"; a lone "Solution" heading is not (0.84)


def code_stub() -> str:
    """The text that replaces a solution region in a code cell: nbgrader's own default."""
    from nbgrader.preprocessors import ClearSolutions

    return ClearSolutions().code_stub["python"]


class MarkerError(ValueError):
    """A solution marker is malformed; the message names the file (and cell) and the line."""

    def __init__(self, where: str, line: int, message: str, text: str = ""):
        self.where = where
        """The file, e.g. ``solutions/week1/spiral.py``, or ``... .ipynb, cell 3``."""
        self.line = line
        """1-based line number within the file (or cell)."""
        self.message = message
        """What is wrong and what is expected (an :mod:`autograder.i18n` message)."""
        self.text = text
        """The offending line."""
        super().__init__(where, line, message, text)

    def __str__(self) -> str:
        shown = f"\n    {self.text.strip()}" if self.text.strip() else ""
        return render(_("{where}, line {line}: {message}", where=self.where, line=self.line,
                        message=self.message)) + shown


@dataclass
class Regions:
    """Where the markers of one text (a module, or one notebook cell) are."""

    solution: list[tuple[int, int]] = field(default_factory=list)
    """(begin, end) 1-based line numbers of each ``### BEGIN/END SOLUTION`` pair."""
    hidden_tests: list[tuple[int, int]] = field(default_factory=list)
    """(begin, end) line numbers of each ``### BEGIN/END HIDDEN TESTS`` pair."""
    release_as: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    """Line number -> (indent, reference code, release code) of each ``### RELEASE AS:`` line."""

    def solution_lines(self, lines: list[str]) -> list[tuple[int, str]]:
        """(line number, text) of every line the release must not contain: region bodies and the
        reference side of ``RELEASE AS`` lines."""
        found = []
        for begin, end in self.solution + self.hidden_tests:
            found += [(n, lines[n - 1]) for n in range(begin + 1, end)]
        found += [(n, code) for n, (_, code, _) in self.release_as.items() if code]
        return sorted(found)

    def marked_lines(self) -> set[int]:
        """Line numbers that are markers, region bodies or ``RELEASE AS`` lines."""
        marked = set(self.release_as)
        for begin, end in self.solution + self.hidden_tests:
            marked.update(range(begin, end + 1))
        return marked


def _similar(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


def _near_miss(line: str) -> str | None:
    """The exact marker a line seems to be a misspelling of, or None."""
    for hashes in re.finditer(r"#+", line):
        match = _WORDS_AFTER_HASHES.match(line, hashes.end())
        if match is None:
            continue
        words = [w.upper() for w in match.groups()[:3] if w]
        raw_words = [w for w in match.groups()[:3] if w]
        colon = bool(match.group(4))
        for phrase, exact in _PHRASES:
            k = len(phrase)
            per_word = len(words) >= k and all(_similar(w, p) >= _WORD_SIMILARITY for w, p in zip(words, phrase))
            joined = _similar(words[0], "".join(phrase)) >= _JOINED_SIMILARITY
            if not (per_word or joined):
                continue
            if phrase == ("RELEASE", "AS") and not (colon or all(w.isupper() for w in raw_words[:k])):
                continue  # "# Release as a package" is prose; "## release as: x" and "### RELEASE AS x" are not
            return exact
    return None


def scan(text: str, where: str, *, release_as: bool = True, hidden_tests: bool = True) -> Regions:
    """Find every marker in ``text``; raise :class:`MarkerError` on anything malformed.

    ``release_as`` / ``hidden_tests``: whether those markers are allowed in this kind of text
    (``RELEASE AS`` only in ``.py`` modules; hidden tests only in notebook grade cells).
    """
    regions = Regions()
    open_solution: int | None = None
    open_hidden: int | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()

        def error(message) -> MarkerError:
            return MarkerError(where, number, message, line)

        if stripped in (BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS) and not hidden_tests:
            raise error(_("{marker} is only allowed in a notebook's autograder test cell", marker=stripped))
        if stripped == BEGIN_SOLUTION:
            if open_solution is not None:
                raise error(_("encountered nested begin solution statements (the region opened at line "
                              "{opened} is not closed yet)", opened=open_solution))
            if open_hidden is not None:
                raise error(_("{marker} inside the hidden tests region opened at line {opened}",
                              marker=BEGIN_SOLUTION, opened=open_hidden))
            open_solution = number
        elif stripped == END_SOLUTION:
            if open_solution is None:
                raise error(_("{end} without a {begin} before it", end=END_SOLUTION, begin=BEGIN_SOLUTION))
            regions.solution.append((open_solution, number))
            open_solution = None
        elif stripped == BEGIN_HIDDEN_TESTS:
            if open_hidden is not None:
                raise error(_("encountered nested begin hidden tests statements (the region opened at line "
                              "{opened} is not closed yet)", opened=open_hidden))
            if open_solution is not None:
                raise error(_("{marker} inside the solution region opened at line {opened}",
                              marker=BEGIN_HIDDEN_TESTS, opened=open_solution))
            open_hidden = number
        elif stripped == END_HIDDEN_TESTS:
            if open_hidden is None:
                raise error(_("{end} without a {begin} before it", end=END_HIDDEN_TESTS, begin=BEGIN_HIDDEN_TESTS))
            regions.hidden_tests.append((open_hidden, number))
            open_hidden = None
        elif (match := _RELEASE_AS_LINE.match(line)) is not None:
            if not release_as:
                raise error(_("{marker} is only supported in .py modules, not in notebooks", marker=RELEASE_AS))
            if open_solution is not None:
                raise error(_("{marker} inside the solution region opened at line {opened} would be cleared "
                              "with the region", marker=RELEASE_AS, opened=open_solution))
            release_code = match.group("release").strip()
            if not release_code:
                raise error(_("{marker} with empty code: write the line the release should have after the "
                              "colon (use `pass` for a line that does nothing)", marker=RELEASE_AS))
            for marker in NBGRADER_DELIMITERS:
                if marker in line:
                    raise error(_("a {release_as} line must not contain {marker}", release_as=RELEASE_AS,
                                  marker=repr(marker)))
            regions.release_as[number] = (match.group("indent"), (match.group("code") or "").strip(), release_code)
        else:
            for marker in NBGRADER_DELIMITERS:
                if marker in line:
                    exact = "### " + marker
                    raise error(_("line contains {marker} but is not exactly {exact} on a line of its own "
                                  "(nbgrader would still treat it as a marker)", marker=repr(marker),
                                  exact=repr(exact)))
            if "RELEASE AS:" in line:
                raise error(_("line contains 'RELEASE AS:' but not as ' {marker} <code>' at its end",
                              marker=RELEASE_AS))
            suggestion = _near_miss(line)
            if suggestion is not None:
                raise error(_("looks like a misspelled marker; expected exactly {marker}", marker=repr(suggestion)))
    if open_solution is not None:
        raise MarkerError(where, open_solution, _("no end solution statement found"), BEGIN_SOLUTION)
    if open_hidden is not None:
        raise MarkerError(where, open_hidden, _("no end hidden tests statement found"), BEGIN_HIDDEN_TESTS)
    return regions


def _nbgrader_clear(text: str) -> str:
    """Replace solution regions with nbgrader's own ``ClearSolutions`` code, as for a code cell."""
    from nbformat.v4 import new_code_cell
    from nbgrader.preprocessors import ClearSolutions

    cell = new_code_cell(text)
    ClearSolutions()._replace_solution_region(cell, "python")
    return cell.source


def clear_module(text: str, where: str) -> str:
    """The student's version of a ``.py`` module: planted code in, solution regions out."""
    regions = scan(text, where, release_as=True, hidden_tests=False)
    lines = text.split("\n")
    for number, (indent, _code, release_code) in regions.release_as.items():
        lines[number - 1] = indent + release_code
    planted = "\n".join(lines)
    return _nbgrader_clear(planted) if regions.solution else planted
