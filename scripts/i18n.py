"""The kit's message catalog: extract every message id, merge translations, compile.

    python scripts/i18n.py update                 # extract ids, update zh's .po, compile the .mo
    python scripts/i18n.py translate FILE.json    # add translations (English id -> Chinese), then update
    python scripts/i18n.py missing                # list ids without a Chinese text

Message ids are the English templates passed to ``_`` and ``n_`` (:mod:`autograder.i18n`) in
``autograder/`` and ``dlkit/``, and each exercise's ``title`` in ``exercises.toml``. The ``.po`` file
is the source of the translations; the ``.mo`` beside it is compiled from it and shipped in the wheel.
Runs hold a lock, so sessions translating different modules at once do not overwrite each other.
"""

from __future__ import annotations

import argparse
import fcntl
import io
import json
import sys
import tempfile
from contextlib import contextmanager, redirect_stderr
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.i18n import DOMAIN, LOCALE_DIR  # noqa: E402

SOURCES = ("autograder", "dlkit")
METHOD_MAP = [("**.py", "python"), ("**/exercises.toml", "autograder.i18n:extract_toml"),
              ("exercises.toml", "autograder.i18n:extract_toml")]
KEYWORDS = {"_": None, "n_": (1, 2)}
LANGUAGES = ("zh",)


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def extracted() -> Catalog:
    """Every message id in the kit's sources, with where it is used."""
    template = Catalog(project="dlkit", domain=DOMAIN, fuzzy=False)
    for folder in SOURCES:
        with redirect_stderr(io.StringIO()):  # Babel warns of every f-string among a call's arguments (an
            found = list(extract_from_dir(     # argument's own formatting is fine; tests/core/test_i18n.py
                ROOT / folder, METHOD_MAP, keywords=KEYWORDS,  # fails on an id that is not a literal)
                comment_tags=("TRANSLATORS:",), strip_comment_tags=True))
        for filename, line, message, comments, context in found:
            template.add(message, None, [(f"{folder}/{filename}", line)], auto_comments=comments,
                         context=context, flags=("python-brace-format",))
    return template


def read_catalog(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN, project="dlkit", fuzzy=False,
                       header_comment="# Chinese texts of dlkit's messages; the English ids are the source.\n"
                                      "# Terms follow ../shared/GLOSSARY.md (the course's own).",
                       msgid_bugs_address="", last_translator="dlkit", language_team="dlkit")
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def write_catalog(catalog: Catalog, lang: str) -> None:
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, omit_header=False, sort_output=False, ignore_obsolete=True,
             include_previous=False)
    path.write_bytes(buffer.getvalue())
    mo = io.BytesIO()
    write_mo(mo, catalog, use_fuzzy=False)
    path.with_suffix(".mo").write_bytes(mo.getvalue())


@contextmanager
def locked():
    with open(Path(tempfile.gettempdir()) / "dlkit-i18n.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def update(translations: dict[str, str] | None = None) -> list[str]:
    """Extract, merge ``translations`` into each language's catalog, compile; returns ids still untranslated."""
    template = extracted()
    missing = []
    for lang in LANGUAGES:
        catalog = read_catalog(lang)
        template.creation_date = catalog.creation_date  # the header changes only when the ids do
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.fuzzy = False
        for message in catalog:
            if not message.id:
                continue
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            if translations and key in translations:
                text = translations[key]
                message.string = tuple([text] * 1) if isinstance(message.id, tuple) else text
            message.flags.discard("fuzzy")
            if not (message.string[0] if isinstance(message.string, tuple) else message.string):
                missing.append(key)
        write_catalog(catalog, lang)
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("update", help="extract ids, update the catalogs, compile them")
    translate = sub.add_parser("translate", help="merge translations from JSON files, then update")
    translate.add_argument("files", nargs="+", type=Path)
    sub.add_parser("missing", help="list the ids without a Chinese text")
    args = parser.parse_args(argv)
    translations: dict[str, str] = {}
    if args.command == "translate":
        for path in args.files:
            translations.update(json.loads(path.read_text(encoding="utf-8")))
    with locked():
        missing = update(translations)
    if args.command == "missing" or missing:
        print("\n".join(missing))
    print(f"{len(missing)} message id(s) without a Chinese text", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
