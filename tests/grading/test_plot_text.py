"""Plot text in the reader's language only where matplotlib can draw it (:mod:`autograder.plot_text`)."""

from __future__ import annotations

import io
import warnings

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from autograder import plot_text  # noqa: E402
from autograder.i18n import _, current_language, set_language  # noqa: E402

TITLE = _("your relu_model after {steps} Adam steps: training accuracy {accuracy:.3f}", steps=100, accuracy=0.5)
ENGLISH = "your relu_model after 100 Adam steps: training accuracy 0.500"


@pytest.fixture
def language():
    """Set the language for one test; the language and matplotlib's settings are restored after it."""
    before = current_language()
    with matplotlib.rc_context():
        yield set_language
    set_language(before)


def glyph_warnings(text: str) -> list[str]:
    """The missing-glyph warnings drawing ``text`` as a title and an axis label gives."""
    fig, ax = plt.subplots(figsize=(3, 3), dpi=50)
    try:
        ax.set_title(text)
        ax.set_xlabel(text)
        ax.plot([-1, 1], [-1, 1])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.savefig(io.BytesIO(), format="png")
    finally:
        plt.close(fig)
    return [str(w.message) for w in caught if "missing from" in str(w.message).lower()]


def test_without_a_cjk_font_chinese_labels_are_english(language, monkeypatch):
    language("zh")
    monkeypatch.setattr(plot_text, "cjk_font", lambda: None)
    text = plot_text.label(TITLE)
    assert text == ENGLISH
    assert glyph_warnings(text) == []


def test_english_labels_never_look_for_a_font(language, monkeypatch):
    language("en")
    monkeypatch.setattr(plot_text, "cjk_font", lambda: pytest.fail("looked for a CJK font for English"))
    assert plot_text.label(TITLE) == ENGLISH


def test_a_cjk_font_found_gives_chinese_labels_and_is_put_in_matplotlibs_settings(language, monkeypatch):
    language("zh")
    monkeypatch.setattr(plot_text, "cjk_font", lambda: "Some CJK Sans")
    text = plot_text.label(TITLE)
    assert text == TITLE.render("zh") != ENGLISH and "100" in text and "0.500" in text
    assert "Some CJK Sans" in matplotlib.rcParams["font.family"]
    assert "Some CJK Sans" in matplotlib.rcParams["font.sans-serif"]


def test_with_a_real_cjk_font_chinese_labels_draw_without_missing_glyphs(language):
    family = plot_text.cjk_font()
    if family is None:
        pytest.skip("no font with Chinese glyphs here (e.g. apt install fonts-noto-cjk or fonts-wqy-microhei)")
    language("zh")
    text = plot_text.label(TITLE)
    assert text == TITLE.render("zh") != ENGLISH
    assert glyph_warnings(text) == []


def test_matplotlibs_last_resort_font_does_not_count_as_cjk(monkeypatch):
    last_resort = [entry for entry in font_manager.fontManager.ttflist if "last resort" in entry.name.lower()]
    if not last_resort:
        pytest.skip("this matplotlib ships no Last Resort font")
    monkeypatch.setattr(font_manager.fontManager, "ttflist", last_resort)
    plot_text.cjk_font.cache_clear()
    try:
        assert plot_text.cjk_font() is None
    finally:
        plot_text.cjk_font.cache_clear()
