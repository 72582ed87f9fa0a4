"""The ``dlkit`` command of a student's handout: ``dlkit data`` (fetch, link or check the data sets).

The kit itself installs :mod:`dlkit.cli` under the same name, which adds the instructors' commands.
"""

from __future__ import annotations

import argparse
import sys

from autograder import __version__, cli_data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dlkit", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"dlkit {__version__}")
    cli_data.add_parser(parser.add_subparsers(title="commands", metavar="COMMAND"))
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
