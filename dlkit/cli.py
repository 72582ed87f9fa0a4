"""The ``dlkit`` command for instructors and TAs: ``dlkit data``, ``dlkit release``, ``dlkit grade``.

Students' handouts install :mod:`autograder.cli` under the same name, with ``dlkit data`` alone.
"""

from __future__ import annotations

import argparse
import sys

from autograder import __version__, cli_data
from dlkit.grading import cli as grading_cli
from dlkit.release import cli as release_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlkit", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"dlkit {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in (cli_data, release_cli, grading_cli):
        module.add_parser(subparsers)  # each sets ``func`` on its parsers
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
