"""The reference solution, imported in the grading process (never in the worker).

Checks get it through the ``reference`` and ``reference_module`` fixtures; scripts and the kit's
tests through :func:`load_reference`.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from types import ModuleType

from autograder.settings import KIT_ROOT

REFERENCE_ROOT = KIT_ROOT / "solutions"


@functools.cache
def load_reference(week: str, stem: str) -> ModuleType:
    """``solutions/<week>/<stem>.py``, imported once."""
    path = REFERENCE_ROOT / week / f"{stem}.py"
    name = f"_dlkit_reference_{week}_{stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
