"""Writing files so that a reader, or a run killed half-way, never sees half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomically(text: str, path: Path) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
