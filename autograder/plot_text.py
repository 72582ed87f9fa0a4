"""Words on plots in the reader's language, where matplotlib can draw them.

A plot's title or axis label is an :mod:`autograder.i18n` message like any other, but matplotlib
draws Chinese only with a font that has the glyphs; without one every character becomes an empty
box (and a warning). :func:`label` renders a message in the current language when that language
is English or such a font is installed (and tells matplotlib to use it), else in English, which
every font can draw. :func:`cjk_font` finds the font.
"""

from __future__ import annotations

import functools
from typing import Any

from autograder.i18n import current_language, render

PROBE = "准确率"
"""Characters a font must have (each its own glyph) to count as able to draw the kit's Chinese."""
SANS_HINTS = ("sans", "hei", "gothic", "yahei", "pingfang")
"""Words in a family name that mark a sans-serif CJK font, preferred (matplotlib's own text is sans-serif)."""


@functools.lru_cache(maxsize=None)
def cjk_font() -> str | None:
    """The family name of a font matplotlib knows that has Chinese glyphs (sans-serif ones first), or ``None``.

    A font counts when its character map has :data:`PROBE`'s characters as distinct glyphs: matplotlib's own
    "Last Resort" font maps every character of a block to one placeholder glyph and does not count."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    entries = sorted(font_manager.fontManager.ttflist,
                     key=lambda e: (not any(hint in e.name.lower() for hint in SANS_HINTS), e.name, e.fname))
    tried = set()
    for entry in entries:
        if entry.fname in tried or "last resort" in entry.name.lower():
            continue
        tried.add(entry.fname)
        try:
            charmap = FT2Font(entry.fname).get_charmap()
        except (OSError, RuntimeError, ValueError):
            continue
        glyphs = [charmap.get(ord(char)) for char in PROBE]
        if all(glyphs) and len(set(glyphs)) == len(glyphs):
            return entry.name
    return None


def use_font(family: str) -> None:
    """Let matplotlib draw with ``family`` where its usual fonts lack a glyph: appended to ``font.family`` (the
    fallback chain: Latin text keeps its look) and to ``font.sans-serif``."""
    import matplotlib

    families = matplotlib.rcParams["font.family"]
    families = [families] if isinstance(families, str) else list(families)
    if family not in families:
        matplotlib.rcParams["font.family"] = [*families, family]
    if family not in matplotlib.rcParams["font.sans-serif"]:
        matplotlib.rcParams["font.sans-serif"] = [*matplotlib.rcParams["font.sans-serif"], family]


def label(message: Any) -> str:
    """``message`` as text for a plot: in the current language when it is English or a CJK font exists (which
    is then put in matplotlib's settings, :func:`use_font`), else in English.

    Call it before making the figure: matplotlib gives an axes' texts (its title among them) their font
    when the axes is made, so a font put in the settings later does not reach them."""
    lang = current_language()
    if lang != "en":
        family = cjk_font()
        if family is not None:
            use_font(family)
            return render(message, lang)
    return render(message, "en")
