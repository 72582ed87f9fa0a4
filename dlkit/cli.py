"""The ``dlkit`` command for instructors and TAs: ``dlkit data``, ``dlkit release``, ``dlkit grade``.

Students' handouts install :mod:`autograder.cli` under the same name, with ``dlkit data`` alone.
"""

from __future__ import annotations

import argparse
import sys

from autograder import cli as student_cli
from autograder import cli_data
from dlkit.grading import cli as grading_cli
from dlkit.release import cli as release_cli


def build_parser() -> argparse.ArgumentParser:
    return student_cli.build_parser(__doc__.splitlines()[0], (cli_data, release_cli, grading_cli))


def main(argv: list[str] | None = None) -> int:
    return student_cli.run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
