"""The gettext catalogs are complete: every phrase the code marks (``_``, ``pgettext``, ``N_``,
and the label registry's names and templates) has its Chinese, every translation is used,
and words in the reader's language have no other way into the cockpit."""

from __future__ import annotations

import ast
import os
import re
import string
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from warehouse.contract import labels, translations

ROOT = Path(__file__).parents[3]
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _extracted() -> dict[tuple[str | None, str], str]:
    """(context, English) -> where it is written, as ``pybabel extract -F babel.cfg`` finds them."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    top = lambda d: Path(os.path.relpath(d, ROOT)).parts[:1] in ((), ("warehouse",), ("cockpit",))  # noqa: E731
    found = {}
    for filename, lineno, msgid, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS, directory_filter=top):
        found[(context, msgid if isinstance(msgid, str) else msgid[0])] = f"{filename}:{lineno}"
    return found


def _catalog(lang: str) -> dict[tuple[str | None, str], str]:
    """(context, English) -> its translation as the cockpit uses it; a phrase that counts is keyed
    by its English singular, as extracted, and its forms are joined (empty when one is missing).
    An entry marked fuzzy (pybabel update's guess) counts as untranslated: gettext skips it, so
    the reader would see the English (a reason read "Malformed row" on a Chinese page)."""
    with translations.catalog_path(lang).open("rb") as f:
        return {(m.context, m.id[0] if m.pluralizable else m.id):
                "" if m.fuzzy else ("\n".join(m.string) if all(m.string) else "") if m.pluralizable else m.string
                for m in read_po(f) if m.id}


def _english(lang: str) -> dict[tuple[str | None, str], str]:
    """(context, English) -> the English of every form (singular and plural joined)."""
    with translations.catalog_path(lang).open("rb") as f:
        return {(m.context, m.id[0] if m.pluralizable else m.id): "\n".join(m.id) if m.pluralizable else m.id
                for m in read_po(f) if m.id}


def test_every_phrase_has_its_translation_and_every_translation_a_phrase() -> None:
    found, catalog = _extracted(), _catalog("zh")
    assert len(found) > 500  # the extraction sees the cockpit and the registry
    missing = {k: where for k, where in found.items() if not catalog.get(k)}
    assert not missing, f"without a Chinese translation, or marked fuzzy (docs/extending.md, Words): {missing}"
    stale = sorted(set(catalog) - set(found), key=str)
    assert not stale, f"translations nothing uses any more: {stale}"
    # Nor kept as obsolete entries (#~), which gettext ignores: pybabel update --ignore-obsolete.
    obsolete = [line for line in translations.catalog_path("zh").read_text(encoding="utf-8").splitlines() if line.startswith("#~")]
    assert not obsolete, f"obsolete entries left in the catalog: {obsolete[:5]}"


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_translations_use_only_the_fields_the_english_fills() -> None:
    english_of = _english("zh")
    for key, chinese in _catalog("zh").items():
        context, english = key[0], english_of[key]
        assert not CJK.search(english), (context, english)  # the source language is English
        extra = _fields(chinese) - _fields(english)
        # A message may name a unit English does without ("{value}{unit:unit}" against "{value}").
        assert not extra or context == "message" and extra <= {"unit"}, (context, english, chinese)


def test_a_name_and_a_message_are_translated_through_the_catalog() -> None:
    assert labels.name("severity", "critical", "zh") == "严重" and labels.name("severity", "critical", "en") == "Critical"
    # The same English reads differently by kind: an alert closed, a request ticket closed.
    assert labels.name("alert_state", "closed", "zh") != labels.name("ticket_status", "closed", "zh")
    # Each step of the alert loop is named once; the access log's alert_<step> is named after it.
    assert labels.name("action", "alert_dispatch", "zh") == "预警" + labels.name("alert_step", "dispatch", "zh")
    assert translations.gettext("No such phrase", "zh") == "No such phrase"  # untranslated reads in English


def test_a_phrase_that_counts_takes_the_form_of_its_count() -> None:
    forms = ("{count} run requested", "{count} runs requested")
    assert [translations.ngettext(*forms, n, "en").format(count=n) for n in (1, 2)] == ["1 run requested", "2 runs requested"]
    # Chinese has one form, whatever the count.
    assert {translations.ngettext(*forms, n, "zh") for n in (1, 2)} == {"发起 {count} 次运行"}


def test_no_words_in_two_languages_in_the_cockpits_code() -> None:
    """Phrases are English msgids: no t(zh, en) call and no Chinese string literal remains in the
    cockpit (docstrings aside; each language's own name on the switch to it is the exception)."""
    for path in sorted((ROOT / "cockpit").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                      and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "t", f"{path}:{node.lineno}: t(zh, en); write _('English') instead"
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                assert not CJK.search(node.value) or node.value == "中文", f"{path}:{node.lineno}: {node.value!r}"


def _own_scope(fn: ast.AST):
    """The nodes of a function's own scope (not of the comprehensions and functions inside it)."""
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            stack.extend(ast.iter_child_nodes(node))


def test_no_function_hides_the_translation_function() -> None:
    """A callback parameter or a variable named ``_`` would make ``_("…")`` in the same function
    call it instead of translating (Dash callbacks often name an unused input ``_``)."""
    for path in sorted((ROOT / "cockpit").rglob("*.py")):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, (ast.FunctionDef, ast.Lambda)):
                continue
            args = fn.args
            bound = any(a.arg == "_" for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a)
            bound |= any(isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store) for n in _own_scope(fn))
            calls = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_" for n in ast.walk(fn))
            assert not (bound and calls), f"{path}:{fn.lineno}: '_' is bound here and called as the translation"
