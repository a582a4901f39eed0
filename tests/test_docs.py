"""The department-facing docs name every feed, column and reason of the contract."""

from pathlib import Path

from warehouse.contract.city import load_city
from warehouse.contract.docs import current_block, feed_tables
from warehouse.contract.feeds import FEEDS, FILE_REASONS, ROW_REASONS, UNKNOWN_FEED

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_feeds_doc_covers_the_contract() -> None:
    text = (DOCS / "feeds.md").read_text(encoding="utf-8")
    for f in FEEDS:
        assert f"`{f.name}`" in text, f.id
        for c in f.columns:
            assert f"`{c.name}`" in text, (f.id, c.name)
            for code in c.codes if len(c.codes) < 10 else ():
                assert f"`{code}`" in text, (f.id, c.name, code)
    for r in (*ROW_REASONS, *FILE_REASONS, UNKNOWN_FEED):
        assert f"`{r}`" in text, r
    for d in load_city().districts:
        assert f"`{d.code}` {d.name}" in text


def test_feeds_doc_column_tables_are_the_contract_s() -> None:
    text = (DOCS / "feeds.md").read_text(encoding="utf-8")
    assert current_block(text) == feed_tables(), "run: python -m warehouse.contract.docs docs/feeds.md"
