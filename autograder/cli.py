"""The ``dlkit`` command of a student's handout: ``dlkit data`` (fetch, link or check the data sets).

The kit itself installs :mod:`dlkit.cli` under the same name, which adds the instructors' commands
to the same parser (:func:`build_parser`). Help and messages are in the reader's language:
``--lang en|zh``, else ``DLKIT_LANG``, else the locale (:func:`autograder.i18n.resolve_language`).
Help texts are rendered when the parser is built, so set the language first
(:func:`set_language_from_argv`), as :func:`main` does.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from autograder import __version__, cli_data
from autograder.i18n import LanguageError, LANGUAGES, _, display_width, render, resolve_language, set_language

DESCRIPTION = _("The ``dlkit`` command of a student's handout: ``dlkit data`` (fetch, link or check the data sets).")


# ---------------------------------------------------------------- argparse in the reader's language


USAGE_STAND_IN = "\x01"


class _LocalisedUsage:
    """A help formatter mixin whose usage line starts with "usage: " in the reader's language, and
    whose section headings end in a full-width colon when they are Chinese."""

    def add_usage(self, usage, actions, groups, prefix=None):
        if prefix is None:
            prefix = str(_("usage: "))
        if not prefix.isascii():  # argparse indents the usage's next lines by len(prefix): a stand-in as wide
            self.__dict__["_dlkit_prefix"] = prefix     # as the Chinese prefix on screen, swapped back below
            prefix = USAGE_STAND_IN * display_width(prefix)
        return super().add_usage(usage, actions, groups, prefix)

    def start_section(self, heading):
        self.__dict__.setdefault("_dlkit_headings", []).append(heading)
        return super().start_section(heading)

    def format_help(self):
        text = super().format_help()
        if "_dlkit_prefix" in self.__dict__:
            text = re.sub(f"{USAGE_STAND_IN}+", self.__dict__["_dlkit_prefix"], text, count=1)
        for heading in self.__dict__.get("_dlkit_headings", []):
            if heading and not heading.isascii():
                text = text.replace(f"{heading}:\n", f"{heading}：\n")
        return text

    def _split_lines(self, text, width):
        return super()._split_lines(text, width) if text.isascii() else wrap_wide(text, width)

    def _fill_text(self, text, width, indent):
        if text.isascii():
            return super()._fill_text(text, width, indent)
        return "\n".join(indent + line for line in wrap_wide(text, width))


_NO_LINE_START = set("，。、；：？！）》」』”’")
_NO_LINE_END = set("（《「『“‘")


def wrap_wide(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns, for text with Chinese in it: a line may
    break between any two Chinese characters (not before closing punctuation) or at a space, never
    inside a word of code such as ``--data-root``."""

    lines: list[str] = []
    line = ""
    for token in re.findall(r"[!-~]+|\s+|.", re.sub(r"\s+", " ", text).strip()):
        if token.isspace() and not line:
            continue
        if line and display_width(line + token) > width and not token.isspace() and token not in _NO_LINE_START:
            carried = line[-1] if line[-1] in _NO_LINE_END and len(line) > 1 else ""
            lines.append(line[: len(line) - len(carried)].rstrip())
            line = carried
        line += " " if token.isspace() else token
    if line.strip():
        lines.append(line.rstrip())
    return lines


def localised_formatter(formatter_class: type = argparse.HelpFormatter) -> type:
    """``formatter_class`` with the usage prefix translated (the same class if it already is)."""
    if issubclass(formatter_class, _LocalisedUsage):
        return formatter_class
    return type(f"Localised{formatter_class.__name__}", (_LocalisedUsage, formatter_class), {})


_ARGPARSE_ERRORS: list[tuple[re.Pattern, Any]] = [
    (re.compile(r"the following arguments are required: (?P<names>.*)", re.DOTALL),
     lambda m: _("the following arguments are required: {names}", names=m["names"])),
    (re.compile(r"unrecognized arguments: (?P<args>.*)", re.DOTALL),
     lambda m: _("unrecognized arguments: {args}", args=m["args"])),
    (re.compile(r"invalid choice: (?P<value>.*) \(choose from (?P<choices>.*)\)", re.DOTALL),
     lambda m: _("invalid choice: {value} (choose from {choices})", value=m["value"], choices=m["choices"])),
    (re.compile(r"expected one argument", re.DOTALL), lambda m: _("expected one argument")),
    (re.compile(r"invalid (?P<type>\S+) value: (?P<value>.*)", re.DOTALL),
     lambda m: _("invalid {type} value: {value}", type=m["type"], value=m["value"])),
    (re.compile(r"ambiguous option: (?P<option>\S+) could match (?P<matches>.*)", re.DOTALL),
     lambda m: _("ambiguous option: {option} could match {matches}", option=m["option"], matches=m["matches"])),
]
"""argparse's own error messages (English, from its code) and the same messages as ours."""


def make_message(message: str):
    """argparse's error ``message`` as a message of ours, when it is one we know (else as it is)."""
    argument = re.fullmatch(r"argument (?P<name>[^:]+): (?P<rest>.*)", message, re.DOTALL)
    if argument:
        return _("argument {name}: {message}", name=argument["name"], message=make_message(argument["rest"]))
    for pattern, make in _ARGPARSE_ERRORS:
        found = pattern.fullmatch(message)
        if found:
            return make(found)
    return message


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` speaking the reader's language: its group titles, usage prefix,
    ``-h/--help`` and error messages are rendered when it is built (or errs). Subparsers made with
    :meth:`add_subparsers` are of this class too."""

    def __init__(self, *args: Any, add_help: bool = True, formatter_class: type = argparse.HelpFormatter,
                 **kwargs: Any):
        super().__init__(*args, add_help=False, formatter_class=localised_formatter(formatter_class), **kwargs)
        self._positionals.title = str(_("positional arguments"))
        self._optionals.title = str(_("options"))
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help=str(_("show this help message and exit")))

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, render(_("{prog}: error: {message}", prog=self.prog, message=make_message(message))) + "\n")


# ---------------------------------------------------------------- the language


def language_in(argv: Sequence[str]) -> str | None:
    """The value of ``--lang`` in ``argv`` (``--lang zh`` or ``--lang=zh``), if any; the last one wins."""
    found = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith("--lang="):
            found = arg.split("=", 1)[1]
    return found


def set_language_from_argv(argv: Sequence[str] | None = None) -> str:
    """Set the language of messages and help from ``--lang`` in ``argv`` (default: ``sys.argv``), else
    ``DLKIT_LANG``, else the locale; returns it. Call it before building a parser, so that its help
    is in that language. A value argparse will refuse is left to it; a bad ``DLKIT_LANG`` is said on
    stderr, and English used."""
    argv = sys.argv[1:] if argv is None else list(argv)
    explicit = language_in(argv)
    try:
        lang = resolve_language(explicit if explicit in LANGUAGES else None)
    except LanguageError as error:
        print(f"dlkit: {error}; writing in English", file=sys.stderr)
        lang = "en"
    set_language(lang)
    return lang


# ---------------------------------------------------------------- the command


def build_parser(description, commands: tuple[ModuleType, ...] = (cli_data,)) -> argparse.ArgumentParser:
    """``dlkit`` with ``commands``: modules whose ``add_parser(subparsers)`` sets ``func`` on their parsers.

    ``description`` is a message or a string. Help texts are rendered now, in the current language."""
    parser = ArgumentParser(prog="dlkit", description=render(description))
    parser.add_argument("--version", action="version", version=f"dlkit {__version__}",
                        help=str(_("show program's version number and exit")))
    parser.add_argument("--lang", choices=LANGUAGES, default=None,
                        help=str(_("language of the messages: en (English) or zh (Chinese); default: $DLKIT_LANG, "
                                   "else the system's locale")))
    subparsers = parser.add_subparsers(title=str(_("commands")), metavar="COMMAND")
    for module in commands:
        module.add_parser(subparsers)
    return parser


def run(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the command it names; help and exit status 2 without one."""
    args = parser.parse_args(argv)
    if getattr(args, "lang", None):
        set_language(resolve_language(args.lang))
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


def main(argv: list[str] | None = None) -> int:
    set_language_from_argv(argv)
    return run(build_parser(DESCRIPTION), argv)


if __name__ == "__main__":
    sys.exit(main())
