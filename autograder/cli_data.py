"""`dlkit data status | download | link`: get the course's data sets in place."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from .data.download import download
from .data.errors import DataError
from .data.link import link
from .data.root import ENV_VAR, data_root
from .data.status import USABLE, format_status, status

DATA_ROOT_HELP = f"data folder to use (default: ${ENV_VAR} if set, else <kit>/data_cache)"


def _add_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-root", metavar="DIR", default=None, help=DATA_ROOT_HELP)


def _report(command: str, run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except DataError as e:
            print(f"dlkit data {command}: {e}", file=sys.stderr)
            return 1

    return wrapped


def _print_status(root: str | None) -> int:
    rows = status(root)
    print(f"data root: {data_root(root)}")
    print(format_status(rows))
    return 0 if all(r.state in USABLE for r in rows) else 1


def run_status(args: argparse.Namespace) -> int:
    """Print the status table; exit 0 when all four splits are present, else 1."""
    return _print_status(args.data_root)


def run_download(args: argparse.Namespace) -> int:
    """Download the chosen data set(s), then print the status table."""
    download(args.dataset, args.data_root, mirror=args.mirror, progress=not args.quiet,
             force=args.force)
    return _print_status(args.data_root)


def run_link(args: argparse.Namespace) -> int:
    """Link (or copy) the data files of SRC into the data root, then print the status table."""
    items = link(args.src, args.data_root, copy=args.copy)
    for item in items:
        print(f"{item.how:>13}  {item.dest}")
    return _print_status(args.data_root)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `data` and its commands on the `dlkit` parser's subparsers.

    Each command's parser sets `func(args) -> int exit code`.
    """
    data = subparsers.add_parser(
        "data",
        help="check, download or link the MNIST and CIFAR-10 data sets",
        description="Check, download or link the MNIST and CIFAR-10 data sets. "
        f"The data root is --data-root, else ${ENV_VAR}, else <kit>/data_cache.",
    )
    data.set_defaults(func=lambda args: (data.print_help(), 2)[1])
    actions = data.add_subparsers(title="actions", metavar="ACTION")

    p = actions.add_parser(
        "status", help="show which data sets are present, missing or corrupt",
        description="Decode every split (through the tensor cache) and show what is there. "
        "Exit status 0 when all four splits are present, 1 otherwise.",
    )
    _add_root(p)
    p.set_defaults(func=_report("status", run_status))

    p = actions.add_parser(
        "download", help="download a data set from the internet",
        description="Download MNIST and/or CIFAR-10 into the data root; splits that are "
        "already present are skipped.",
    )
    p.add_argument("dataset", choices=("mnist", "cifar10", "all"))
    _add_root(p)
    p.add_argument(
        "--mirror", metavar="URL", default=None,
        help="base URL tried first, serving the files under their usual names "
        "(train-images-idx3-ubyte.gz ..., cifar-10-python.tar.gz); file:// works too",
    )
    p.add_argument("--force", action="store_true", help="download even when the data reads fine")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_report("download", run_download))

    p = actions.add_parser(
        "link", help="use a copy you already have, e.g. `dlkit data link ~/datasets`",
        description="Make the MNIST/CIFAR-10 files of SRC (torchvision's layout: "
        "SRC/MNIST/raw/, SRC/cifar-10-batches-py/) appear under the data root as symlinks. "
        "Nothing is written into SRC.",
    )
    p.add_argument("src", metavar="SRC", help="folder holding MNIST/ and/or cifar-10-batches-py/")
    _add_root(p)
    p.add_argument("--copy", action="store_true", help="copy the files instead of linking them")
    p.set_defaults(func=_report("link", run_link))
    return data


