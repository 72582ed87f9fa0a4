"""Chinese and English: the catalog is complete and current, the language is chosen as documented,
messages survive being stored, and a broken translation never costs a student their message."""

from __future__ import annotations

import gettext
import json
import sys

import pytest
from babel.messages.pofile import read_po

from autograder.i18n import (LOCALE_DIR, Joined, LanguageError, _, catalog, from_data, ids_of, n_, placeholders,
                             render, resolve_language, to_data)
from autograder.settings import KIT_ROOT
from tests.support import ENGLISH_RUN, run_autograder

sys.path.insert(0, str(KIT_ROOT / "scripts"))
import i18n as catalog_tool  # noqa: E402  (scripts/i18n.py)

PO = LOCALE_DIR / "zh" / "LC_MESSAGES" / "dlkit.po"


def _po_entries():
    with PO.open("rb") as f:
        return [m for m in read_po(f, locale="zh") if m.id]


def _msgid(message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


def _msgstr(message) -> str:
    return message.string[0] if isinstance(message.string, tuple) else message.string


@pytest.fixture(scope="module")
def po_entries():
    return _po_entries()


def test_the_catalog_holds_exactly_the_ids_in_the_sources(po_entries):
    """Every ``_``/``n_`` id of ``autograder/`` and ``dlkit/`` is in the .po, and nothing else is: run
    ``python scripts/i18n.py update`` after changing a message."""
    extracted = {_msgid(m) for m in catalog_tool.extracted() if m.id}
    in_po = {_msgid(m) for m in po_entries}
    assert sorted(extracted - in_po) == [], "ids missing from dlkit.po: run python scripts/i18n.py update"
    assert sorted(in_po - extracted) == [], "ids no source uses any more: run python scripts/i18n.py update"


def test_every_id_has_an_english_and_a_chinese_text_with_the_same_placeholders(po_entries):
    problems = []
    for message in po_entries:
        english, chinese = _msgid(message), _msgstr(message)
        if not english.strip():
            problems.append(f"empty English id near {message.locations}")
        elif not chinese.strip():
            problems.append(f"no Chinese text: {english!r}")
        elif placeholders(english) != placeholders(chinese):
            problems.append(f"placeholders differ: {english!r} -> {chinese!r}")
        if isinstance(message.id, tuple) and placeholders(message.id[1]) != placeholders(english):
            problems.append(f"plural form has other placeholders: {message.id!r}")
    assert problems == []


def test_the_compiled_catalog_is_the_po_file(po_entries):
    """The shipped .mo says what the .po says (``python scripts/i18n.py update`` compiles it)."""
    with (LOCALE_DIR / "zh" / "LC_MESSAGES" / "dlkit.mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = [_msgid(m) for m in po_entries
             if (compiled.ngettext(m.id[0], m.id[1], 1) if isinstance(m.id, tuple) else compiled.gettext(m.id))
             != _msgstr(m)]
    assert stale == []


def test_chinese_texts_use_the_courses_terms(po_entries):
    """GLOSSARY.md's terms: the spellings the course's own material uses, not near-synonyms."""
    avoid = {"精度": "准确率", "梯度下降法": "梯度下降", "张量的形状": None, "偏差": "偏置", "丢失": "损失",
             "纪元": "epoch", "批次大小": None}
    found = [(word, _msgid(m)) for m in po_entries for word, better in avoid.items()
             if better and word in _msgstr(m)]
    assert found == []


@pytest.mark.parametrize("environ, expected", [
    ({}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW.UTF-8"}, "zh"),
    ({"LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LC_ALL": "zh_CN.UTF-8", "DLKIT_LANG": "en"}, "en"),
    ({"LANG": "en_US.UTF-8", "DLKIT_LANG": "zh"}, "zh"),
])
def test_the_language_comes_from_dlkit_lang_then_the_locale(environ, expected):
    assert resolve_language(None, environ) == expected


def test_an_explicit_language_wins_and_a_wrong_one_is_named():
    assert resolve_language("zh", {"DLKIT_LANG": "en"}) == "zh"
    assert resolve_language("zh-CN", {}) == "zh"
    with pytest.raises(LanguageError, match="DLKIT_LANG='fr' is not one of: en, zh"):
        resolve_language(None, {"DLKIT_LANG": "fr"})


def test_a_message_renders_in_either_language_after_a_round_trip_through_json():
    message = Joined((_("{what} gave shape {got}, expected {expected}", what="matvec(m, v)", got="(3, 1)",
                        expected="(3,)"), _("Hint: {hint}", hint=_("rows are dimension 0."))), "\n")
    stored = from_data(json.loads(json.dumps(to_data(message))))
    assert stored == message
    assert render(stored, "en") == "matvec(m, v) gave shape (3, 1), expected (3,)\nHint: rows are dimension 0."
    chinese = render(stored, "zh")
    assert "matvec(m, v)" in chinese and "(3, 1)" in chinese and "提示" in chinese
    assert not ENGLISH_RUN.search(chinese)


def test_counted_messages_pick_the_english_plural():
    assert render(n_("{n} student", "{n} students", 1), "en") == "1 student"
    assert render(n_("{n} student", "{n} students", 3), "en") == "3 students"
    assert render(n_("{n} student", "{n} students", 3), "zh") == catalog("zh").ngettext(
        "{n} student", "{n} students", 3).format(n=3)


def test_a_translation_with_a_foreign_placeholder_falls_back_to_english(monkeypatch):
    class Broken(gettext.NullTranslations):
        def gettext(self, message):
            return "{nonsense}"

    monkeypatch.setattr("autograder.i18n.catalog", lambda lang: Broken() if lang == "zh" else
                        gettext.NullTranslations())
    assert render(_("{what} failed", what="f(x)"), "zh") == "f(x) failed"


def test_plain_strings_and_old_results_render_as_they_are():
    assert from_data("written before messages were data") == "written before messages were data"
    assert render(from_data({"unknown": 1}), "zh") == "{'unknown': 1}"
    assert list(ids_of("plain")) == []


@pytest.mark.parametrize("week", ["week1", "week2"])
def test_the_untouched_releases_table_in_chinese_has_no_english_sentence(week):
    """``DLKIT_LANG=zh pytest autograder -k WEEK`` on the release: every row and message in Chinese,
    code names aside."""
    proc = run_autograder("-k", week, env={"DLKIT_LANG": "zh", "DLKIT_THREADS": "1"})
    table = proc.stdout[proc.stdout.index(render(_("dlkit points"), "zh")):]
    assert "未实现" in table and "总分" in table
    english = [line for line in table.splitlines() if ENGLISH_RUN.search(line)]
    assert english == []


def test_every_message_id_is_a_literal_babel_can_extract():
    """``_(f"...")``, ``_(variable)`` or a ``_("...")`` inside an f-string's braces would render, but in
    English only: Babel cannot extract it."""
    import ast

    offenders = []
    for folder in ("autograder", "dlkit"):
        for path in sorted((KIT_ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            offenders += [f"{path.relative_to(KIT_ROOT)}:{node.lineno} (inside an f-string)"
                          for fstring in ast.walk(tree) if isinstance(fstring, ast.JoinedStr)
                          for node in ast.walk(fstring)
                          if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("_", "n_")]
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("_", "n_"):
                    literal = [a for a in node.args[:2 if node.func.id == "n_" else 1]
                               if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                    if len(literal) != (2 if node.func.id == "n_" else 1):
                        offenders.append(f"{path.relative_to(KIT_ROOT)}:{node.lineno}")
    assert offenders == []


SCOPES = ("FunctionDef", "AsyncFunctionDef", "Lambda", "ListComp", "SetComp", "DictComp", "GeneratorExp")


def _own_names(scope):
    """The names in ``scope`` itself, not in the functions or comprehensions nested in it."""
    import ast

    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        if type(node).__name__ in SCOPES:
            continue
        if isinstance(node, ast.Name):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def test_no_scope_that_translates_hides_the_translating_function():
    """``for _ in ...`` or ``x, _ = ...`` in a function that also calls ``_("...")`` makes ``_`` a local name
    there: the message then fails with "'int' object is not callable" instead of being shown."""
    import ast

    offenders = []
    for folder in ("autograder", "dlkit"):
        for path in sorted((KIT_ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for scope in [tree, *(n for n in ast.walk(tree) if type(n).__name__ in SCOPES)]:
                hides = [n for n in _own_names(scope) if n.id == "_" and isinstance(n.ctx, ast.Store)]
                calls = [n for n in ast.walk(scope) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "_"]
                if hides and calls:
                    offenders.append(f"{path.relative_to(KIT_ROOT)}:{hides[0].lineno}")
    assert offenders == []
