"""The reference solution, imported in the grading process (never in the worker).

Checks get it through the ``reference`` and ``reference_module`` fixtures; scripts and the kit's
tests through :func:`load_reference`.
"""

from __future__ import annotations

import functools
from types import ModuleType

from autograder.importing import import_file
from autograder.settings import KIT_ROOT

REFERENCE_ROOT = KIT_ROOT / "solutions"


@functools.cache
def load_reference(week: str, stem: str) -> ModuleType:
    """``solutions/<week>/<stem>.py``, imported once."""
    return import_file(f"_dlkit_reference_{week}_{stem}", REFERENCE_ROOT / week / f"{stem}.py")
