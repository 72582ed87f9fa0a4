"""What is on disk: one row per data set and split, and a table of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.i18n import _, display_width, pad, render

from . import cifar10, mnist
from .cache import load_tensors
from .errors import DataError, DataNotFoundError
from .root import data_root

PRESENT, PARTIAL, MISSING, CORRUPT = "present", "partial", "missing", "corrupt"
USABLE = (PRESENT, PARTIAL)
OFFICIAL_COUNTS = {("mnist", True): 60_000, ("mnist", False): 10_000, ("cifar10", True): 50_000, ("cifar10", False): 10_000}
"""Images in each official split; fewer is a usable but partial copy."""

_SETS = (
    ("MNIST", "mnist", mnist.mnist_folder),
    ("CIFAR-10", "cifar10", cifar10.cifar_folder),
)


@dataclass(frozen=True)
class StatusRow:
    """The state of one split of one data set."""

    dataset: str
    """Display name: `MNIST` or `CIFAR-10`."""
    split: str
    """`train` or `test`."""
    state: str
    """`present`, `partial` (fewer images than the official split), `missing` or `corrupt`."""
    count: int | None
    """Number of images when present, else None."""
    path: Path
    """The folder the split is read from."""
    detail: str = ""
    """Why it is missing or corrupt, and what to do (in the language of the moment it was checked);
    empty when present."""


def status(root: str | Path | None = None) -> list[StatusRow]:
    """Check MNIST and CIFAR-10, train and test, under the data root.

    Each split is decoded fully (through the tensor cache), so a damaged file
    shows up as `corrupt`. Returns four rows: MNIST train, MNIST test,
    CIFAR-10 train, CIFAR-10 test.
    """
    resolved = data_root(root)
    rows = []
    for display, name, folder in _SETS:
        for train in (True, False):
            split = "train" if train else "test"
            path = folder(resolved)
            try:
                images, _labels = load_tensors(name, train, resolved)
            except DataNotFoundError as e:
                rows.append(StatusRow(display, split, MISSING, None, path, render(e.message)))
            except DataError as e:
                rows.append(StatusRow(display, split, CORRUPT, None, path, render(e.message)))
            else:
                count, official = int(images.shape[0]), OFFICIAL_COUNTS[(name, train)]
                if count < official:
                    shown, full = format(count, ","), format(official, ",")
                    detail = _("{count} of the official {official} images. The quick profile's checks run on it; "
                               "course-length (full profile) figures need the whole split: "
                               "`dlkit data download {name} --force`.",
                               count=shown, official=full, name=name)
                    rows.append(StatusRow(display, split, PARTIAL, count, path, render(detail)))
                else:
                    rows.append(StatusRow(display, split, PRESENT, count, path))
    return rows


SPLITS = {"train": _("train"), "test": _("test")}
"""How a split is named in the table."""
STATES = {PRESENT: _("present"), PARTIAL: _("partial"), MISSING: _("missing"), CORRUPT: _("corrupt")}
"""How a state is named in the table."""




def format_status(rows: list[StatusRow]) -> str:
    """A plain-text table of `rows`, followed by the details of any problem (in the current language)."""
    header = tuple(render(h) for h in (_("data set"), _("split"), _("state"), _("images"), _("path")))
    table = [header] + [
        (r.dataset, render(SPLITS.get(r.split, r.split)), render(STATES.get(r.state, r.state)),
         "-" if r.count is None else str(r.count), str(r.path))
        for r in rows
    ]
    widths = [max(display_width(line[i]) for line in table) for i in range(len(header) - 1)]
    lines = [
        "  ".join(pad(cell, w) for cell, w in zip(line[:-1], widths)) + "  " + line[-1]
        for line in table
    ]
    problems = [r for r in rows if r.state != PRESENT]
    if problems:
        lines.append("")
        lines.extend(render(_("{dataset} {split} is {state}: {detail}", dataset=r.dataset,
                              split=SPLITS.get(r.split, r.split), state=STATES.get(r.state, r.state),
                              detail=r.detail))
                     for r in problems)
    return "\n".join(lines)
