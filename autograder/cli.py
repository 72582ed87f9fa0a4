"""The ``dlkit`` command for instructors and TAs: ``dlkit data``, ``dlkit release``, ``dlkit grade``."""

from __future__ import annotations

import argparse
import importlib
import sys

from autograder import __version__

# Each entry: module that defines ``add_parser(subparsers)``; the sub-command's
# parser sets ``func`` to the callable that runs it and returns an exit code.
SUBCOMMAND_MODULES = (
    "autograder.cli_data",
    "autograder.release.cli",
    "autograder.grading.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlkit", description=__doc__)
    parser.add_argument("--version", action="version", version=f"dlkit {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if not (name == error.name or name.startswith(f"{error.name}.")):
                raise
            continue
        module.add_parser(subparsers)
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
