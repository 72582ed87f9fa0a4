"""The multiple-choice answer keys, read from the reference solutions (``ANSWER_X = "c"`` in
``solutions/<week>/questions.py``): one source of truth, and nothing a student's handout holds."""

from __future__ import annotations

import ast
import functools

from autograder.i18n import _
from dlkit.reference import REFERENCE_ROOT


@functools.cache
def answers(week: str) -> dict[str, str]:
    """``{"ANSWER_ALEXNET": "c", ...}``: every ``ANSWER_*`` string constant of the week's reference
    ``questions.py`` (the written answers, ``ANSWER_Q1`` ..., are graded by hand and have none)."""
    tree = ast.parse((REFERENCE_ROOT / week / "questions.py").read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
            if name.startswith("ANSWER_") and isinstance(value, ast.Constant) and isinstance(value.value, str) \
                    and len(value.value.strip()) == 1:
                found[name] = value.value.strip().lower()
    return found


def answer(week: str, name: str) -> str:
    """The right letter for ``name`` in ``week``; a :class:`KeyError` naming it when the key has none."""
    try:
        return answers(week)[name]
    except KeyError:
        file = f"solutions/{week}/questions.py"
        raise KeyError(str(_("{file} sets no one-letter {name}: the answer key has no entry for it", file=file,
                             name=name))) from None
