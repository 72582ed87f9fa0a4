"""Where the data sets live: one rule, used by every loader and command.

Precedence: an explicit argument, then the `DLKIT_DATA` environment variable,
then `<kit root>/data_cache`, where the kit root is the folder that holds the
`autograder` package.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "DLKIT_DATA"
KIT_ROOT = Path(__file__).resolve().parents[2]


def default_root() -> Path:
    """The kit's own data folder, `<kit root>/data_cache`."""
    return KIT_ROOT / "data_cache"


def data_root(explicit: str | Path | None = None) -> Path:
    """Resolve the data root.

    `explicit` wins when given; otherwise `$DLKIT_DATA` when set and not
    empty; otherwise `default_root()`. A leading `~` is expanded and the
    result is absolute. The folder is not required to exist.
    """
    if explicit is not None and str(explicit) != "":
        chosen = Path(explicit)
    elif os.environ.get(ENV_VAR, "").strip():
        chosen = Path(os.environ[ENV_VAR].strip())
    else:
        chosen = default_root()
    return Path(os.path.abspath(chosen.expanduser()))
