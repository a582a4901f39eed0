"""The reader's language: gettext catalogs, one for the warehouse and the cockpit alike.

English is the source language: a phrase is written in English where it is used, wrapped
in ``_()`` in the cockpit (``cockpit/i18n.py``) or ``gettext(text, lang)`` here; a phrase
whose English means two things takes a context (``pgettext``), one that counts takes its
English singular and plural (``ngettext``: Chinese has one form). A code's name is written in
English in the label registry (``labels.py``) and translated with its kind as context, so
"Closed" the alert and "Closed" the request ticket may read differently in Chinese.

The translations are ``locale/<catalog>/LC_MESSAGES/citybrain.po``, read with Babel when
first asked and compiled in memory for the standard library's gettext (no .mo file to keep).
``babel.cfg`` at the top of the repository says where phrases are extracted from;
``tests/warehouse/contract/test_translations.py`` fails on a phrase without its translation and on a
translation nothing uses.
"""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "citybrain"
LOCALE_DIR = Path(__file__).with_name("locale")
# The reader's language -> its catalog. English, the source language, needs none.
CATALOGS: dict[str, str] = {"zh": "zh_CN"}


def catalog_path(lang: str) -> Path:
    """The .po file holding ``lang``'s translations."""
    return LOCALE_DIR / CATALOGS[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _translations(lang: str) -> _gettext.NullTranslations:
    """``lang``'s catalog as the standard library's gettext reads it (compiled in memory: the
    .po is the only file), so contexts and plural forms follow the gettext rules; entries
    untranslated or marked fuzzy are left out. English, the source language, needs none."""
    if lang not in CATALOGS:
        return _gettext.NullTranslations()
    with catalog_path(lang).open("rb") as f:
        catalog = read_po(f, locale=CATALOGS[lang], domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def pgettext(context: str | None, text: str, lang: str) -> str:
    """``text`` (English) in ``lang``, as meant in ``context``; English when untranslated."""
    if lang == "en" or not text:
        return text
    found = _translations(lang)
    return found.gettext(text) if context is None else found.pgettext(context, text)


def gettext(text: str, lang: str) -> str:
    """``text`` (English) in ``lang``; English when untranslated."""
    return pgettext(None, text, lang)


def ngettext(singular: str, plural: str, n: int, lang: str) -> str:
    """The form of a phrase that counts ``n`` things, in ``lang``: English has two ("{count} run
    requested", "{count} runs requested"), Chinese one (the catalog's Plural-Forms says how
    many and which applies). The caller fills the count in: ``.format(count=n)``."""
    return _translations(lang).ngettext(singular, plural, n)


def extract_names(fileobj, keywords, comment_tags, options) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """Babel extraction method for ``labels.py`` (see ``babel.cfg``): the English names of the
    label registry, each with its kind as context, and the message templates. The tables are
    read as the code sees them, so a name added to a table is in the next extraction."""
    from warehouse.contract import labels

    for context, text in labels.msgids():
        yield 0, "pgettext", (context, text), []
