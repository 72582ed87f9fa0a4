"""The ``dlkit`` command for instructors and TAs: ``dlkit data``, ``dlkit release``, ``dlkit grade``.

Students' handouts install :mod:`autograder.cli` under the same name, with ``dlkit data`` alone.

Every command takes ``--lang {en,zh}`` (else ``DLKIT_LANG``, else the locale: :func:`autograder.i18n.resolve_language`).
It is read before the parser is built, so ``--help`` is in that language too (argparse's own words are
:mod:`autograder.cli`'s); the processes a command starts (the grading processes of ``dlkit grade``, the
recording of ``dlkit release record``) inherit it through ``DLKIT_LANG``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Iterator

from autograder import cli as student_cli
from autograder import cli_data
from autograder.i18n import LANGUAGES, _, render
from dlkit.grading import cli as grading_cli
from dlkit.release import cli as release_cli

DESCRIPTION = _("The ``dlkit`` command for instructors and TAs: ``dlkit data``, ``dlkit release``, ``dlkit grade``.")
"""What ``dlkit --help`` says first (this module docstring's first line)."""


def choose_language(argv: list[str]) -> str:
    """The language of this run (``--lang`` in ``argv``, else ``DLKIT_LANG``, else the locale), made the current
    language and put in ``DLKIT_LANG`` for the processes the command starts."""
    lang = student_cli.set_language_from_argv(argv)
    os.environ["DLKIT_LANG"] = lang
    return lang


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """``parser`` and every parser of its commands, at any depth."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # an alias names the same parser
                yield from _parsers(sub)


def with_language_option(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give every command of ``parser`` a ``--lang`` of its own (``dlkit grade ... --lang zh``), where it has none."""
    for index, each in enumerate(_parsers(parser)):
        if "--lang" not in each._option_string_actions:
            each.add_argument("--lang", choices=LANGUAGES, default=None if index == 0 else argparse.SUPPRESS,
                              help=str(_("language of the messages: en (English) or zh (Chinese); default: "
                                         "$DLKIT_LANG, else the system's locale")))
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``dlkit`` parser, its help in the current language (:func:`autograder.i18n.set_language` first)."""
    return with_language_option(
        student_cli.build_parser(render(DESCRIPTION), (cli_data, release_cli, grading_cli)))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    choose_language(argv)
    return student_cli.run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
