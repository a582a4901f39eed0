"""The reader's language: gettext catalogs, one for the warehouse and the cockpit alike.

English is the source language: a phrase is written in English where it is used, wrapped
in ``_()`` in the cockpit (``cockpit/i18n.py``) or ``gettext(text, lang)`` here; a phrase
whose English means two things takes a context (``pgettext``). A code's name is written in
English in the label registry (``labels.py``) and translated with its kind as context, so
"Closed" the alert and "Closed" the request ticket may read differently in Chinese.

The translations are ``locale/<catalog>/LC_MESSAGES/citybrain.po``, read with Babel when
first asked (a few hundred entries: no compile step). ``babel.cfg`` at the top of the
repository says where phrases are extracted from; ``tests/warehouse/test_translations.py``
fails on a phrase without its translation and on a translation nothing uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

DOMAIN = "citybrain"
LOCALE_DIR = Path(__file__).with_name("locale")
# The reader's language -> its catalog. English, the source language, needs none.
CATALOGS: dict[str, str] = {"zh": "zh_CN"}


def catalog_path(lang: str) -> Path:
    """The .po file holding ``lang``'s translations."""
    return LOCALE_DIR / CATALOGS[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _translations(lang: str) -> dict[tuple[str | None, str], str]:
    """(context, English) -> translation, of the entries translated and not marked fuzzy."""
    if lang not in CATALOGS:
        return {}
    with catalog_path(lang).open("rb") as f:
        catalog = read_po(f, locale=CATALOGS[lang], domain=DOMAIN)
    return {(m.context, m.id): m.string for m in catalog if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def pgettext(context: str | None, text: str, lang: str) -> str:
    """``text`` (English) in ``lang``, as meant in ``context``; English when untranslated."""
    if lang == "en" or not text:
        return text
    return _translations(lang).get((context, text), text)


def gettext(text: str, lang: str) -> str:
    """``text`` (English) in ``lang``; English when untranslated."""
    return pgettext(None, text, lang)


def extract_names(fileobj, keywords, comment_tags, options) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """Babel extraction method for ``labels.py`` (see ``babel.cfg``): the English names of the
    label registry, each with its kind as context, and the message templates. The tables are
    read as the code sees them, so a name added to a table is in the next extraction."""
    from warehouse.contract import labels

    for context, text in labels.msgids():
        yield 0, "pgettext", (context, text), []
