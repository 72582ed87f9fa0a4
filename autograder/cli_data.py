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
from .i18n import LANGUAGES, _, display_width, render

LINKED = {"linked": _("linked"), "copied": _("copied"), "already there": _("already there")}
"""How each outcome of `dlkit data link` is named, file by file."""


def _add_common(parser: argparse.ArgumentParser) -> None:
    """`--data-root`, and `--lang` after the action too (`dlkit data status --lang zh`)."""
    parser.add_argument("--data-root", metavar="DIR", default=None,
                        help=str(_("data folder to use (default: ${variable} if set, else <kit>/data_cache)",
                                   variable=ENV_VAR)))
    parser.add_argument("--lang", choices=LANGUAGES, default=argparse.SUPPRESS,
                        help=str(_("language of the messages: en (English) or zh (Chinese); default: $DLKIT_LANG, "
                                   "else the system's locale")))


def _report(command: str, run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except DataError as e:
            print(f"dlkit data {command}: {render(e.message)}", file=sys.stderr)
            return 1

    return wrapped


def _print_status(root: str | None) -> int:
    rows = status(root)
    print(render(_("data root: {root}", root=str(data_root(root)))))
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


def _pad_left(text: str, width: int) -> str:
    return " " * (width - display_width(text)) + text


def run_link(args: argparse.Namespace) -> int:
    """Link (or copy) the data files of SRC into the data root, then print the status table."""
    items = link(args.src, args.data_root, copy=args.copy)
    for item in items:
        print(f"{_pad_left(render(LINKED.get(item.how, item.how)), 13)}  {item.dest}")
    return _print_status(args.data_root)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `data` and its commands on the `dlkit` parser's subparsers.

    Each command's parser sets `func(args) -> int exit code`. Help texts are rendered in the
    language of the moment (set it before building the parser).
    """
    data = subparsers.add_parser(
        "data",
        help=str(_("check, download or link the MNIST and CIFAR-10 data sets")),
        description=str(_("Check, download or link the MNIST and CIFAR-10 data sets. "
                          "The data root is --data-root, else ${variable}, else <kit>/data_cache.",
                          variable=ENV_VAR)),
    )
    data.set_defaults(func=lambda args: (data.print_help(), 2)[1])
    actions = data.add_subparsers(title=str(_("actions")), metavar="ACTION")

    p = actions.add_parser(
        "status", help=str(_("show which data sets are present, missing or corrupt")),
        description=str(_("Decode every split (through the tensor cache) and show what is there. "
                          "Exit status 0 when all four splits are present, 1 otherwise.")),
    )
    _add_common(p)
    p.set_defaults(func=_report("status", run_status))

    p = actions.add_parser(
        "download", help=str(_("download a data set from the internet")),
        description=str(_("Download MNIST and/or CIFAR-10 into the data root; splits that are "
                          "already present are skipped.")),
    )
    p.add_argument("dataset", choices=("mnist", "cifar10", "all"))
    _add_common(p)
    p.add_argument(
        "--mirror", metavar="URL", default=None,
        help=str(_("base URL tried first, serving the files under their usual names "
                   "(train-images-idx3-ubyte.gz ..., cifar-10-python.tar.gz); file:// works too")),
    )
    p.add_argument("--force", action="store_true", help=str(_("download even when the data reads fine")))
    p.add_argument("--quiet", action="store_true", help=str(_("no progress bar")))
    p.set_defaults(func=_report("download", run_download))

    p = actions.add_parser(
        "link", help=str(_("use a copy you already have, e.g. `dlkit data link ~/datasets`")),
        description=str(_("Make the MNIST/CIFAR-10 files of SRC (torchvision's layout: "
                          "SRC/MNIST/raw/, SRC/cifar-10-batches-py/) appear under the data root as symlinks. "
                          "Nothing is written into SRC.")),
    )
    p.add_argument("src", metavar="SRC", help=str(_("folder holding MNIST/ and/or cifar-10-batches-py/")))
    _add_common(p)
    p.add_argument("--copy", action="store_true", help=str(_("copy the files instead of linking them")))
    p.set_defaults(func=_report("link", run_link))
    return data
