"""Chinese and English: which language a reader gets, and messages kept as data until they are shown.

A message is built with :func:`_` (or :func:`n_` when it counts something) from an English
template with named placeholders, ``_("{what} gave shape {got}, expected {expected}", what=...)``.
It stays a :class:`Text` (template and arguments) until it is rendered, so the same result can be
shown in either language: a check's failure, stored in ``results.json`` as data, re-renders a
report in the other language without grading again.

The English template is the gettext message id (English is the source language); the Chinese
text comes from the ``dlkit`` catalog under ``autograder/locale/`` (``zh/LC_MESSAGES/dlkit.po``,
compiled to ``.mo`` and shipped in the wheel). ``python scripts/i18n.py`` extracts the ids with
Babel and compiles the catalog. Arguments that are plain strings (code names, file names, shapes,
what a student's own code raised) are shown as they are in both languages.
"""

from __future__ import annotations

import gettext
import os
import re
import string
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

DOMAIN = "dlkit"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "zh")
"""Languages the kit speaks; English is the source language of every message."""
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
"""Consulted in this order (POSIX precedence) when neither ``--lang`` nor ``DLKIT_LANG`` says."""


class LanguageError(ValueError):
    """A language the kit does not speak was asked for."""


def language_from_locale(environ: Mapping[str, str] | None = None) -> str:
    """``"zh"`` when the first set locale variable begins with ``zh`` (``zh_CN.UTF-8``), else ``"en"``."""
    environ = os.environ if environ is None else environ
    for name in LOCALE_VARIABLES:
        value = environ.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def check_language(value: str, source: str) -> str:
    """``value`` normalised (``zh_CN`` -> ``zh``); :class:`LanguageError` naming ``source`` otherwise."""
    normalised = value.strip().lower().replace("-", "_").split("_")[0]
    if normalised not in LANGUAGES:
        raise LanguageError(f"{source}={value!r} is not one of: {', '.join(LANGUAGES)}")
    return normalised


def resolve_language(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The language to write in: ``explicit`` (``--lang``), else ``DLKIT_LANG``, else the locale, else English."""
    environ = os.environ if environ is None else environ
    if explicit:
        return check_language(explicit, "--lang")
    if environ.get("DLKIT_LANG"):
        return check_language(environ["DLKIT_LANG"], "DLKIT_LANG")
    return language_from_locale(environ)


_current: list[str] = []


def set_language(lang: str) -> None:
    """Make ``lang`` the language :func:`str` renders messages in, for this process."""
    _current[:] = [check_language(lang, "language")]


def current_language() -> str:
    """The language set by :func:`set_language`, else the one the environment asks for."""
    if not _current:
        try:
            _current.append(resolve_language())
        except LanguageError:
            _current.append("en")
    return _current[0]


@lru_cache(maxsize=None)
def catalog(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English: none, the message ids are the English text)."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns."""
    return text + " " * max(0, width - display_width(text))


def placeholders(template: str) -> set[str]:
    """The named placeholders of a template: ``{what} gave {got:.3f}`` -> ``{"what", "got"}``."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


CJK_GAP = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]) (?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])")
"""A space between two Chinese characters: a template's space before a placeholder that turned out Chinese
("{what} 为" with ``what`` = "准确率") is dropped; a space beside Latin text ("matvec(m, v) 得到") stays."""


@dataclass(frozen=True)
class Text:
    """A message to show later: an English template (the gettext id) and its arguments.

    Arguments may be numbers, plain strings (shown as they are) or other messages (rendered in the
    same language). ``plural`` and ``n`` pick the English singular or plural form by ``n``.
    """

    msgid: str
    """The English template, with ``{name}`` placeholders (``{{`` for a brace)."""
    args: Mapping[str, Any] = field(default_factory=dict)
    """Placeholder name -> value."""
    plural: str | None = None
    """The English plural template, when the message counts ``n`` things."""
    n: int | None = None
    """The count that picks singular or plural."""

    def render(self, lang: str | None = None) -> str:
        """The message in ``lang`` (default: :func:`current_language`); English if a translation is broken."""
        lang = lang or current_language()
        values = {name: render(value, lang) if isinstance(value, MESSAGE_TYPES) else value
                  for name, value in self.args.items()}
        try:
            text = self._template(lang).format(**values)
        except (KeyError, IndexError, ValueError):  # a translation with a placeholder the English lacks
            return self._template("en").format(**values)
        return CJK_GAP.sub("", text) if lang == "zh" else text

    def _template(self, lang: str) -> str:
        translations = catalog(lang)
        if self.plural is not None:
            return translations.ngettext(self.msgid, self.plural, self.n if self.n is not None else 1)
        return translations.gettext(self.msgid)

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class Joined:
    """Messages (or plain strings) shown one after another with ``separator`` between them."""

    parts: tuple[Any, ...]
    separator: str = ""

    def render(self, lang: str | None = None) -> str:
        return self.separator.join(render(part, lang) for part in self.parts)

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class FirstLine:
    """The first line of ``message`` as rendered (a long message named in a one-line summary)."""

    message: Any

    def render(self, lang: str | None = None) -> str:
        text = render(self.message, lang).strip()
        return text.splitlines()[0] if text else ""

    def __str__(self) -> str:
        return self.render()


MESSAGE_TYPES = (Text, Joined, FirstLine)


class Said:
    """Mixed into an exception whose ``message`` is a message of this module: ``str(error)`` renders it in
    the reader's language, and the message itself stays data for whoever reports the error."""

    def __init__(self, message, *args: Any):
        super().__init__(message, *args)
        self.message = message

    def __str__(self) -> str:
        return render(self.message)


def _(msgid: str, **args: Any) -> Text:
    """A message to render later (its template is extracted into the catalog)."""
    return Text(msgid, args)


def n_(singular: str, plural: str, n: int, **args: Any) -> Text:
    """A message that counts ``n`` things; ``n`` is also a placeholder."""
    return Text(singular, {"n": n, **args}, plural, n)


def join(parts: Iterable[Any], separator: str = "") -> Joined | str:
    """The non-empty ``parts`` shown one after another (``""`` when there are none)."""
    kept = tuple(part for part in parts if part)
    return Joined(kept, separator) if kept else ""


def in_turn(messages: Iterable[Any]):
    """The non-empty ``messages`` one after another, ``"; "`` between them (``"；"`` in Chinese); ``""`` when
    there are none."""
    kept = [message for message in messages if message]
    if not kept:
        return ""
    joined = kept[0]
    for message in kept[1:]:
        joined = _("{first}; {second}", first=joined, second=message)
    return joined


def render(message: Any, lang: str | None = None) -> str:
    """``message`` in ``lang``: a message rendered, anything else as :func:`str`."""
    if isinstance(message, MESSAGE_TYPES):
        return message.render(lang)
    return "" if message is None else str(message)


def to_data(message: Any) -> Any:
    """``message`` as JSON data: a string stays a string, a message becomes ``{"id": ..., "args": ...}``."""
    if isinstance(message, Text):
        data: dict[str, Any] = {"id": message.msgid, "args": {k: to_data(v) for k, v in message.args.items()}}
        if message.plural is not None:
            data["plural"], data["n"] = message.plural, message.n
        return data
    if isinstance(message, Joined):
        return {"join": message.separator, "parts": [to_data(p) for p in message.parts]}
    if isinstance(message, FirstLine):
        return {"first_line": to_data(message.message)}
    if isinstance(message, (int, float)) or message is None:
        return message
    return str(message)


def from_data(data: Any) -> Any:
    """The message :func:`to_data` stored (unknown shapes come back as their text)."""
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        args = data.get("args") if isinstance(data.get("args"), dict) else {}
        return Text(data["id"], {str(k): from_data(v) for k, v in args.items()}, data.get("plural"), data.get("n"))
    if isinstance(data, dict) and "parts" in data:
        return Joined(tuple(from_data(p) for p in data.get("parts") or ()), str(data.get("join", "")))
    if isinstance(data, dict) and "first_line" in data:
        return FirstLine(from_data(data["first_line"]))
    if isinstance(data, (str, int, float)) or data is None:
        return data
    return str(data)


def map_plain(message: Any, change: Callable[[str], str]) -> Any:
    """``message`` with ``change`` applied to each of its plain strings (the parts shown as they are, such as
    code and paths); its templates, numbers and structure stay as they are."""
    if isinstance(message, Text):
        return Text(message.msgid, {k: map_plain(v, change) for k, v in message.args.items()}, message.plural,
                    message.n)
    if isinstance(message, Joined):
        return Joined(tuple(map_plain(part, change) for part in message.parts), message.separator)
    if isinstance(message, FirstLine):
        return FirstLine(map_plain(message.message, change))
    return change(message) if isinstance(message, str) else message


def ids_of(message: Any) -> Iterable[Text]:
    """Every :class:`Text` inside ``message`` (itself and its arguments), for tests of the catalog."""
    if isinstance(message, Text):
        yield message
        for value in message.args.values():
            yield from ids_of(value)
    elif isinstance(message, Joined):
        for part in message.parts:
            yield from ids_of(part)
    elif isinstance(message, FirstLine):
        yield from ids_of(message.message)


def extract_toml(fileobj, keywords, comment_tags, options):
    """Babel extractor for ``exercises.toml``: each exercise's ``title`` is a message id."""
    from autograder.spec import tomllib

    data = tomllib.loads(fileobj.read().decode("utf-8"))
    for week in data.values():
        if not isinstance(week, dict):
            continue
        for exercise in week.values():
            if isinstance(exercise, dict) and isinstance(exercise.get("title"), str):
                yield 0, "_", exercise["title"], []
