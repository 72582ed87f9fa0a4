"""The one exception the data layer raises.

Every message says what is wrong, where, and what to do about it, because the
person reading it is a student or TA who wants their data back, not a
traceback into the kit. Messages are :mod:`autograder.i18n` messages, rendered
in the reader's language when they are shown.
"""

from __future__ import annotations

from autograder.i18n import Said, _


class DataError(Said, Exception):
    """A data set is missing, damaged, or could not be fetched; ``message`` (an
    :mod:`autograder.i18n` message) says what, where, and what to do."""

    dataset: str = ""
    """The data set's display name (``MNIST``, ``CIFAR-10``) once known; set by the reader that raised it."""


class DataNotFoundError(DataError):
    """A file or folder that a data set needs is not there."""


class CorruptDataError(DataError):
    """A file is there but its contents are not what the format says."""


FOLDERS = {"mnist": "MNIST", "cifar10": "cifar-10-batches-py"}
"""The folder each data set has in torchvision's layout, under the data root."""


def fix_hint(command: str):
    """The standard "how to get the data" sentence for `command` (mnist, cifar10), as a message."""
    return _("Fix: run `dlkit data download {command}` (needs the internet); or, with a copy you already have, "
             "`dlkit data link ~/datasets` (the folder that holds {folder}/), or set DLKIT_DATA to that folder.",
             command=command, folder=FOLDERS.get(command, command))
