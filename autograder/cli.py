"""The ``dlkit`` command of a student's handout: ``dlkit data`` (fetch, link or check the data sets).

The kit itself installs :mod:`dlkit.cli` under the same name, which adds the instructors' commands
to the same parser (:func:`build_parser`).
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from autograder import __version__, cli_data


def build_parser(description: str, commands: tuple[ModuleType, ...] = (cli_data,)) -> argparse.ArgumentParser:
    """``dlkit`` with ``commands``: modules whose ``add_parser(subparsers)`` sets ``func`` on their parsers."""
    parser = argparse.ArgumentParser(prog="dlkit", description=description)
    parser.add_argument("--version", action="version", version=f"dlkit {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in commands:
        module.add_parser(subparsers)
    return parser


def run(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the command it names; help and exit status 2 without one."""
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


def main(argv: list[str] | None = None) -> int:
    return run(build_parser(__doc__.splitlines()[0]), argv)


if __name__ == "__main__":
    sys.exit(main())
