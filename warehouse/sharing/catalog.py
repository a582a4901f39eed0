"""The unified catalog (统一目录): one entry per thing the platform holds, derived from what the
code already declares, so a new feed, library table, indicator or open-data set appears with no
catalog edit.

Where each kind of entry comes from:

- ``feed/<department>/<feed>``: every feed of the contract (``warehouse/contract/feeds.py``),
  its data items the contract's columns with their kinds;
- ``quarantine/<department>/<feed>``: the rows of that feed that failed validation, kept for
  the department to correct (listed so that everyone sees they exist and are not shared);
- ``library/<library>/<table>``: every SQL model of every thematic library
  (``warehouse/libraries/*``), its data items the table's columns. A model declares the table
  and what it ``reads`` but not its columns: those are written once, in the warehouse's
  migrations (the tables' DDL). They are read from the schema the migrations make, through
  ``information_schema`` of an in-memory DuckDB, once per process — not from a published
  snapshot, which holds no library table (person-level rows never reach the cockpit), and so
  that the catalog stands before the first refresh and is the same on every past day;
- ``indicator/<indicator id>``: every indicator of ``catalog.toml`` as expanded (94 today). One
  entry per indicator, templated ones too: each has its own owner (a handler's on-time rate is
  that handler's), its own values and lineage, and a request names exactly one;
- ``open/<dataset>``: every open-data set of ``warehouse/marts/open_data.py`` (``DATASETS``).

What a data item is (``Item``): its name (the column), its type (the contract's kind; for a
library table the kind of the source column of that name, else its SQL type) and whether it is
personal (identity numbers and the hashes kept of them, a person's name, an address, a phone)
or sensitive (identity numbers, a cause of death, ethnicity: PIPL Art. 28, GB/T 35273 Annex B).

Derived defaults (each overridden by the owning department's latest edit, ``catalog_edits``):

- the owner (提供部门): a feed's department; a library table's, the department of the first
  feed behind it (the one its model reads first: the authoritative source, psb for the
  population library), else the data resources bureau; an indicator's, the department its
  catalog entry names when a steward can be scoped to it, else the one department of its
  feeds, else the bureau; an open-data set's, the one department of its feeds, else the bureau;
- the sharing class (共享属性, contract §6) and its basis: record-level data with a personal
  item is ``conditional`` on the PIPL's statutory-duty rules (Art. 13, Art. 34); record-level
  data without one is ``conditional`` on the interim measures for government information
  sharing (Art. 5); aggregates (indicators) and open data are ``unconditional``; rejected rows
  are ``none``: they may be wrong and are kept only for their department to correct;
- the open class (开放属性): personal record-level data and rejected rows are not opened,
  other record-level data and the indicators only on conditions (as the rounded open-data set),
  open data unconditionally;
- the update cycle: daily, as every feed is delivered and every refresh runs.

Lineage is the code's one lineage: a library model's ``reads``, an indicator's ``reads`` (the
ledger standing for the feeds ``warehouse.marts.lineage.feeds_of`` gives), an open set's
indicators; ``downstream`` is ``upstream`` turned round.

Live facts (rows, last update, the latest day held, rows read and rejected) are computed
set-based at publish time into the snapshot's ``catalog_stats`` (:func:`stats_sql`); the
rejection rate, open findings (those the owner must fix) and freshness against the cycle are
derived from them when read. Who uses an entry: the departments holding an active grant of it
(the operational store's ``share_requests``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from warehouse.contract import feeds as contract
from warehouse.contract.translations import pgettext
from warehouse.libraries import build as libraries
from warehouse.marts import open_data
from warehouse.marts.indicators.catalog import Indicator
from warehouse.marts.indicators.catalog import catalog as indicator_catalog
from warehouse.marts.lineage import LEDGER, feeds_of
from warehouse.sharing.requests import SHARING_CLASSES
from warehouse.storage.sql import Sql, quote_ident, quote_table

KINDS = ("feed", "library", "indicator", "open", "quarantine")
OPEN_CLASSES = ("unconditional", "conditional", "none")  # 无条件开放 / 有条件开放 / 不予开放
UPDATE_CYCLE = "daily"
CYCLE_DAYS = {"daily": 1}  # how many days a cycle may lag behind the clock date and still be current
BUREAU = "dsb"  # 数据资源管理局: owns what no single department provides
# The fields an owner may edit (warehouse/ops/catalog_edits.py), as stored in catalog_edits.field.
EDITABLE = ("description_zh", "description_en", "sharing_class", "sharing_basis", "open_class")

# The governed interfaces of contract §6, by the entry whose data they answer from.
INTERFACES: dict[str, tuple[str, str]] = {
    "library/e_certificate/certificate_state": ("POST", "/api/v1/certificates/verify"),
    "library/population/persons": ("POST", "/api/v1/persons/status"),
    "library/legal_person/entities": ("POST", "/api/v1/entities/lookup"),
}
OPENAPI_PATH = "/api/v1/openapi.json"


def N_(text: str) -> str:
    """Marks ``text`` for the translation catalog where it is written; translated where shown."""
    return text


# The bases of the derived sharing classes (English; the Chinese is in the catalog).
PERSONAL_BASIS = N_("Personal information (PIPL Art. 13 and Art. 34): shared only where a statutory duty needs it, "
                    "for the purpose stated in the request and within that duty")
RECORD_BASIS = N_("Record-level data of the providing department (Interim Measures for the Administration of "
                  "Government Information Resource Sharing, Art. 5): shared on request, for a stated purpose, once "
                  "the provider agrees")
AGGREGATE_BASIS = N_("Aggregates per district and day: no person can be picked out of them")
OPEN_BASIS = N_("Published open data: every count rounded to a multiple of 10, so that no person can be singled out")
QUARANTINE_BASIS = N_("Rows that failed validation may be wrong: they are kept only for the providing department to "
                      "correct and deliver again (PIPL Art. 8 and Art. 46); the corrected rows are shared instead")
FEED_DESCRIPTION = N_("Delivered daily by {department} and checked row by row against the feed contract; accepted rows "
                      "keep the delivery and line they came from.")
QUARANTINE_NAME = N_("{feed}: rejected rows")
QUARANTINE_DESCRIPTION = N_("Rows of {feed} that failed validation, with their reasons, kept only so that {department} "
                            "can correct them and deliver them again.")
LIBRARY_NAME = N_("{library} · {table}")

PERSONAL_KINDS = frozenset({"id_number", "holder_id"})
PERSONAL_NAMES = frozenset({"caller_hash", "address", "phone", "mobile"})
SENSITIVE_NAMES = frozenset({"cause_category", "ethnicity"})
_WORDS = {"id": "ID", "uscc": "USCC", "rep": "representative", "no": "number", "party1": "party 1", "party2": "party 2",
          "zh": "(Chinese)", "en": "(English)"}
_SQL_TYPES = (("TIMESTAMP", "timestamp"), ("DATE", "date"), ("BOOL", "boolean"), ("[]", "list"),
              ("INT", "number"), ("DECIMAL", "number"), ("DOUBLE", "number"), ("FLOAT", "number"))


@dataclass(frozen=True)
class Item:
    """A data item (数据项) of an entry: a column, its type (``labels.ITEM_TYPES``), whether it is
    personal and whether sensitive. Requests and grants name items by ``name``."""

    name: str
    type: str
    personal: bool
    sensitive: bool = False

    @property
    def title(self) -> str:
        """What the column holds, in English words (the Chinese: context "data item")."""
        return item_title(self.name)


@dataclass(frozen=True)
class Stats:
    """Live facts of an entry as the snapshot read has them. ``freshness``: "current" (its
    latest day is within its cycle of the clock date), "behind" or "unknown"."""

    rows: int | None = None
    last_update: dt.datetime | None = None
    latest_day: dt.date | None = None
    rejection_rate: float | None = None
    open_findings: int | None = None
    freshness: str = "unknown"
    days_behind: int | None = None


@dataclass(frozen=True)
class Entry:
    """One catalog entry: the derived defaults, the owner's latest edits over them, the live
    facts of a snapshot (``stats``) and the departments holding an active grant (``users``).
    ``name``/``description`` are English, ``name_zh``/``description_zh`` Chinese; a basis an
    owner wrote is shown as written in both languages."""

    code: str
    kind: str
    group: str  # a feed's department, a table's library, an indicator's domain, "open"
    name: str
    name_zh: str
    description: str
    description_zh: str
    owner: str
    items: tuple[Item, ...]
    sharing_class: str
    sharing_basis: str
    open_class: str
    update_cycle: str = UPDATE_CYCLE
    upstream: tuple[str, ...] = ()
    downstream: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    stats: Stats = field(default_factory=Stats)
    edited_at: str | None = None  # the latest edit's time and who made it (None: the derived defaults)
    edited_by: str | None = None
    basis_edited: bool = False  # sharing_basis is an owner's text, not a derived default

    def title(self, lang: str) -> str:
        return self.name if lang == "en" else self.name_zh

    def about(self, lang: str) -> str:
        return self.description if lang == "en" else self.description_zh

    def basis(self, lang: str) -> str:
        """The sharing basis in ``lang``: a derived one translated, an owner's as written."""
        return self.sharing_basis if self.basis_edited else pgettext(None, self.sharing_basis, lang)

    def item(self, name: str) -> Item | None:
        return next((i for i in self.items if i.name == name), None)

    @property
    def personal(self) -> bool:
        return any(i.personal for i in self.items)

    @property
    def interface(self) -> tuple[str, str] | None:
        """(method, path) of the governed interface answering from this entry (contract §6)."""
        return INTERFACES.get(self.code)


# ------------------------------------------------------------------------------------- words


def item_title(column: str) -> str:
    """A column's English title: ``legal_rep_id_number`` -> "Legal representative ID number"."""
    words = [_WORDS.get(w, w) for w in column.split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _table_title(table: str) -> str:
    return item_title(table.split(".", 1)[1])


def _model_description(lib: libraries.Library, model: libraries.Model) -> str:
    """A table's description in English: the leading comment of its SQL, its "schema.table:" left out."""
    lines = []
    for line in lib.sql(model.file).splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.lstrip("- ").strip())
    text = " ".join(lines)
    text = re.sub(r"^\S+\.\S+:\s*", "", text)
    return text[:1].upper() + text[1:]


def _both(text: str, context: str | None = None, **names: tuple[str, str]) -> tuple[str, str]:
    """(Chinese, English) of an English phrase, its fields filled with names in each language."""
    zh = pgettext(context, text, "zh").format(**{k: v[0] for k, v in names.items()})
    en = text.format(**{k: v[1] for k, v in names.items()})
    return zh, en


def _department(code: str) -> tuple[str, str]:
    return contract.OWNER_DEPARTMENTS.get(code) or contract.REQUEST_HANDLERS.get(code) or (code, code)


def _feed_name(feed: contract.Feed) -> tuple[str, str]:
    return feed.title_zh, feed.title_en[:1].upper() + feed.title_en[1:]


# ------------------------------------------------------------------------------------- items


@lru_cache(maxsize=1)
def _schema_columns() -> dict[str, tuple[tuple[str, str], ...]]:
    """Every warehouse table's columns and SQL types, as the migrations make them (in memory)."""
    from warehouse.ingest.schema import connect

    con = connect(":memory:")
    try:
        out: dict[str, list[tuple[str, str]]] = {}
        for schema, table, column, typ in con.execute(
                "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
                "ORDER BY table_schema, table_name, ordinal_position").fetchall():
            out.setdefault(f"{schema}.{table}", []).append((column, typ))
        return {k: tuple(v) for k, v in out.items()}
    finally:
        con.close()


@lru_cache(maxsize=8)
def _open_columns(name: str) -> tuple[tuple[str, str], ...]:
    """An open-data set's columns and SQL types: its own query run on the empty schema."""
    from warehouse.ingest.schema import connect

    con = connect(":memory:")
    try:
        dataset = open_data.DATASETS[name]
        rel = con.execute(f"DESCRIBE {dataset.sql}", dataset.params())
        return tuple((r[0], r[1]) for r in rel.fetchall())
    finally:
        con.close()


def _sql_kind(typ: str) -> str:
    return next((kind for word, kind in _SQL_TYPES if word in typ.upper()), "text")


def _item(name: str, kind: str, names: set[str]) -> Item:
    """An item with its personal and sensitive flags (the rule in the module's docstring): a
    ``name`` column is a person's only where the same table holds the person's ``id_number``."""
    personal = (kind in PERSONAL_KINDS or name.endswith("id_number") or name in PERSONAL_NAMES
                or (name == "name" and "id_number" in names))
    sensitive = kind == "id_number" or name.endswith("id_number") or name in SENSITIVE_NAMES
    return Item(name, kind, personal, sensitive)


def _typed(columns: tuple[tuple[str, str], ...], kinds: Mapping[str, str]) -> tuple[Item, ...]:
    """Items of a table: each column's kind from the source columns of that name, else its SQL type."""
    names = {c for c, _ in columns}
    return tuple(_item(c, kinds.get(c) or _sql_kind(t), names) for c, t in columns)


def _feed_kinds(feed_ids) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in feed_ids:
        for c in contract.FEEDS_BY_ID[f].columns:
            out.setdefault(c.name, c.kind)
    return out


# ------------------------------------------------------------------------------------- derivation


def feed_code(feed_id: str) -> str:
    return f"feed/{feed_id}"


def library_code(table: str) -> str:
    """``population.persons`` -> ``library/population/persons``."""
    return "library/" + table.replace(".", "/", 1)


def _upstream_of(name: str) -> str:
    """The entry code of a feed id or a library table a model or indicator reads."""
    return feed_code(name) if name in contract.FEEDS_BY_ID else library_code(name)


def _owner_from_feeds(feed_ids) -> str:
    departments = {f.split("/", 1)[0] for f in feed_ids}
    return departments.pop() if len(departments) == 1 else BUREAU


def _classes(kind: str, items: tuple[Item, ...]) -> tuple[str, str, str]:
    """(sharing class, its basis, open class) by the rule in the module's docstring."""
    if kind == "quarantine":
        return "none", QUARANTINE_BASIS, "none"
    if kind == "indicator":
        return "unconditional", AGGREGATE_BASIS, "conditional"
    if kind == "open":
        return "unconditional", OPEN_BASIS, "unconditional"
    if any(i.personal for i in items):
        return "conditional", PERSONAL_BASIS, "none"
    return "conditional", RECORD_BASIS, "conditional"


def _entry(code: str, kind: str, group: str, name: tuple[str, str], description: tuple[str, str], owner: str,
           items: tuple[Item, ...], upstream: tuple[str, ...], keywords: tuple[str, ...]) -> Entry:
    sharing, basis, opened = _classes(kind, items)
    return Entry(code=code, kind=kind, group=group, name=name[1], name_zh=name[0], description=description[1],
                 description_zh=description[0], owner=owner, items=items, sharing_class=sharing, sharing_basis=basis,
                 open_class=opened, upstream=tuple(dict.fromkeys(upstream)), keywords=tuple(dict.fromkeys(keywords)))


def _feed_entries() -> Iterator[Entry]:
    for f in contract.FEEDS:
        names = set(f.column_names)
        items = tuple(_item(c.name, c.kind, names) for c in f.columns)
        department = _department(f.department)
        yield _entry(feed_code(f.id), "feed", f.department, _feed_name(f), _both(FEED_DESCRIPTION, department=department),
                     f.department, items, (), (*department, *_feed_name(f)))
        yield _entry(f"quarantine/{f.id}", "quarantine", f.department, _both(QUARANTINE_NAME, feed=_feed_name(f)),
                     _both(QUARANTINE_DESCRIPTION, feed=_feed_name(f), department=department), f.department,
                     (*items, Item("reason", "code", False)), (feed_code(f.id),), (*department, *_feed_name(f)))


def _library_entries() -> Iterator[Entry]:
    columns = _schema_columns()
    for lib in libraries.LIBRARIES.values():
        for m in lib.models:
            behind = libraries.feeds_behind(m.table)
            owner = behind[0].split("/", 1)[0] if behind else BUREAU
            title = _table_title(m.table)
            name = _both(LIBRARY_NAME, library=(lib.name_zh, lib.name_en), table=(pgettext("catalog table", title, "zh"), title))
            about = _model_description(lib, m)
            yield _entry(library_code(m.table), "library", lib.name, name, (pgettext("catalog", about, "zh"), about), owner,
                         _typed(columns.get(m.table, ()), _feed_kinds(behind)), tuple(map(_upstream_of, m.reads)),
                         (lib.name_zh, lib.name_en, *_department(owner)))


def _indicator_owner(ind: Indicator, feed_ids) -> str:
    return ind.owner if ind.owner in contract.OWNER_DEPARTMENTS else _owner_from_feeds(feed_ids)


def _indicator_entries() -> Iterator[Entry]:
    for ind in indicator_catalog():
        _basis, feed_ids = feeds_of(ind)
        upstream = [u for r in ind.reads for u in ((feed_code(f) for f in feed_ids) if r == LEDGER else (_upstream_of(r),))]
        owner = _indicator_owner(ind, feed_ids)
        definition = ind.definition()
        yield _entry(f"indicator/{ind.id}", "indicator", ind.domain, (ind.name_zh, ind.name_en),
                     (ind.definition_zh or definition, definition), owner,
                     (Item("date", "date", False), Item("district_code", "district", False), Item("value", "number", False)),
                     tuple(upstream), (ind.domain, *_department(owner)))


def _open_entries() -> Iterator[Entry]:
    kinds = {c.name: c.kind for f in contract.FEEDS for c in f.columns}
    for name, dataset in open_data.DATASETS.items():
        included = [i for i in indicator_catalog() if dataset.includes(i)]
        feed_ids = {f for i in included for f in feeds_of(i)[1]}
        owner = _owner_from_feeds(feed_ids)
        yield _entry(f"open/{name}", "open", "open", (dataset.title_zh, dataset.title_en),
                     (dataset.description_zh, dataset.description_en), owner, _typed(_open_columns(name), kinds),
                     tuple(f"indicator/{i.id}" for i in included), (dataset.title_zh, dataset.title_en))


_DECLARED: list = []  # [(declarations it was derived from, entries)]: derived again when one changes


def declared() -> dict[str, Entry]:
    """Every entry as the code declares it, with its derived defaults and both directions of
    lineage, by code (feeds, rejected rows, library tables, indicators, open data). Derived
    again whenever the contract's feeds, the libraries, the indicator catalog or the open sets
    are other objects than last time (a feed declared at run time appears)."""
    key = (contract.FEEDS, contract.FEEDS_BY_ID, tuple(libraries.LIBRARIES.values()), indicator_catalog(),
           tuple(open_data.DATASETS.items()))
    if _DECLARED and all(a is b or a == b for a, b in zip(_DECLARED[0][0], key)):
        return _DECLARED[0][1]
    found = [*_feed_entries(), *_library_entries(), *_indicator_entries(), *_open_entries()]
    down: dict[str, list[str]] = {}
    for e in found:
        for up in e.upstream:
            down.setdefault(up, []).append(e.code)
    out = {e.code: dataclasses.replace(e, downstream=tuple(dict.fromkeys(down.get(e.code, ())))) for e in found}
    _DECLARED[:] = [(key, out)]
    return out


# ------------------------------------------------------------------------------------- live facts

STATS_TABLE = "catalog_stats"


def stats_needs() -> tuple[str, ...]:
    """The warehouse relations :func:`stats_sql` reads."""
    tables = [m.table for lib in libraries.LIBRARIES.values() for m in lib.models]
    return ("ingest.deliveries", "meta.library_builds", "meta.mart_builds", "marts.indicator_values", *tables,
            *(t for d in open_data.DATASETS.values() for t in d.reads))


def stats_sql() -> Sql:
    """The snapshot's ``catalog_stats`` (published by ``warehouse/serving/publish.py``), one row
    per entry with data: ``code``, ``rows`` (accepted rows of a feed, rejected rows of its
    quarantine, rows of a table, values of an indicator, rows of an open set), ``last_update``
    (ingested, built or computed), ``latest_day`` (the latest business date or day it holds),
    ``rows_read`` and ``rows_rejected`` (feeds and their quarantine). Set-based: each library
    table's rows counted in one statement, its entry code its column's name (unpivoted)."""
    tables = [m.table for lib in libraries.LIBRARIES.values() for m in lib.models]
    counts = ", ".join(f"(SELECT count(*) FROM {quote_table(t)}) AS {quote_ident(library_code(t))}" for t in tables)
    return f"""
        WITH d AS (SELECT * FROM ingest.deliveries WHERE status <> 'superseded'),
             built AS (SELECT max(built_at) AS built_at FROM meta.mart_builds)
        SELECT 'feed/' || department || '/' || feed AS code,
               sum(rows_accepted) FILTER (WHERE status IN ('accepted', 'partial')) AS rows,
               max(ingested_at) AS last_update,
               max(business_date) FILTER (WHERE status IN ('accepted', 'partial')) AS latest_day,
               sum(rows_read) AS rows_read, sum(rows_rejected) AS rows_rejected
        FROM d GROUP BY department, feed
        UNION ALL
        SELECT 'quarantine/' || department || '/' || feed, sum(rows_rejected), max(ingested_at) FILTER (WHERE rows_rejected > 0),
               max(business_date) FILTER (WHERE rows_rejected > 0), sum(rows_read), sum(rows_rejected)
        FROM d GROUP BY department, feed
        UNION ALL
        SELECT u.code, u.rows, b.built_at, NULL, NULL, NULL
        FROM (UNPIVOT (SELECT {counts}) ON COLUMNS(*) INTO NAME code VALUE rows) u
        LEFT JOIN (SELECT library, max(built_at) AS built_at FROM meta.library_builds GROUP BY library) b
               ON b.library = split_part(u.code, '/', 2)
        UNION ALL
        SELECT 'indicator/' || indicator_id, count(value), (SELECT built_at FROM built), max(date) FILTER (WHERE value IS NOT NULL),
               NULL, NULL
        FROM marts.indicator_values GROUP BY indicator_id
        UNION ALL
        SELECT {_open_stats()}"""


def _open_stats() -> Sql:
    """The open sets' part of :func:`stats_sql` (after its SELECT): the rows and the latest day
    of each, its code its column's name (unpivoted)."""
    parts = [f"(SELECT {{'rows': count(*), 'day': max(date)}} FROM ({d.rows})) AS {quote_ident('open/' + name)}"
             for name, d in open_data.DATASETS.items()]
    return (f"u.code, u.s.rows, (SELECT built_at FROM built), u.s.day, NULL, NULL "
            f"FROM (UNPIVOT (SELECT {', '.join(parts)}) ON COLUMNS(*) INTO NAME code VALUE s) u")


@dataclass(frozen=True)
class Facts:
    """What a snapshot says of the entries: its ``catalog_stats`` rows by code, the open
    findings per owning department, and its clock date (what freshness is judged against)."""

    stats: Mapping[str, Mapping[str, Any]]
    findings: Mapping[str, int]
    as_of: dt.date | None

    @staticmethod
    def from_frames(stats, findings, info: Mapping[str, str]) -> Facts:
        """From the snapshot's ``catalog_stats`` and ``findings_summary`` (data frames, possibly
        empty: a snapshot published before them) and its ``snapshot_info``."""
        rows = {} if stats is None or stats.empty else {
            r["code"]: {k: (None if v is None or v != v else v) for k, v in r.items()} for r in stats.to_dict("records")}
        owned = {} if findings is None or findings.empty else {
            str(k): int(v) for k, v in findings.groupby("owner_department")["findings"].sum().items()}
        as_of = info.get("as_of")
        return Facts(rows, owned, dt.datetime.fromisoformat(as_of).date() if as_of else None)


def read_facts(con) -> Facts:
    """The live facts of the serving snapshot open on ``con`` (a DuckDB connection); a table
    the snapshot lacks counts as empty."""
    present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}

    def frame(table: str, sql: Sql):
        return con.execute(sql).df() if table in present else None

    info = frame("snapshot_info", "SELECT key, value FROM snapshot_info")
    return Facts.from_frames(frame(STATS_TABLE, f"SELECT * FROM {quote_ident(STATS_TABLE)}"),
                             frame("findings_summary", "SELECT owner_department, findings FROM findings_summary"),
                             {} if info is None else dict(zip(info["key"], info["value"])))


def _day(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return getattr(value, "date", lambda: None)()


def _stats(entry: Entry, facts: Facts, feeds_of_entry: Mapping[str, tuple[str, ...]]) -> Stats:
    """An entry's live facts: its own row of catalog_stats; a table's or indicator's rejection
    rate over the feeds behind it, and a table's (or rejected rows') latest day their stalest one."""
    own = facts.stats.get(entry.code, {})
    feeds = [facts.stats.get(f, {}) for f in feeds_of_entry.get(entry.code, ())]
    read = own.get("rows_read") if entry.kind in ("feed", "quarantine") else sum(f.get("rows_read") or 0 for f in feeds)
    rejected = own.get("rows_rejected") if entry.kind in ("feed", "quarantine") else sum(f.get("rows_rejected") or 0 for f in feeds)
    # Rejected rows are as fresh as their feed's deliveries; a table with no day of its own, as its stalest feed.
    latest = None if entry.kind == "quarantine" else _day(own.get("latest_day"))
    if latest is None and entry.kind in ("library", "quarantine") and feeds:
        days = [_day(f.get("latest_day")) for f in feeds]
        latest = None if None in days else min(days)
    behind = (facts.as_of - latest).days if latest and facts.as_of else None
    freshness = "unknown" if behind is None else "current" if behind <= CYCLE_DAYS[entry.update_cycle] else "behind"
    last = own.get("last_update")
    return Stats(rows=None if own.get("rows") is None else int(own["rows"]),
                 last_update=last.to_pydatetime() if hasattr(last, "to_pydatetime") else last,
                 latest_day=latest, rejection_rate=(rejected / read) if read else None,
                 open_findings=facts.findings.get(entry.owner, 0) if facts.stats else None,
                 freshness=freshness, days_behind=behind)


# ------------------------------------------------------------------------------------- the catalog


def _feeds_behind(entries: Mapping[str, Entry]) -> dict[str, tuple[str, ...]]:
    """Each entry's feed entries, following its lineage up."""
    memo: dict[str, tuple[str, ...]] = {}

    def walk(code: str) -> tuple[str, ...]:
        if code not in memo:
            e = entries[code]
            memo[code] = (code,) if e.kind == "feed" else tuple(dict.fromkeys(f for u in e.upstream for f in walk(u)))
        return memo[code]

    return {code: walk(code) for code in entries}


def with_edits(entries: Mapping[str, Entry], edits: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, Entry]:
    """``entries`` with each owner's latest edit of a field over its derived default (``edits``:
    code -> field -> {"value", "actor", "at"}, as ``OpsStore.catalog_current`` gives)."""
    out = dict(entries)
    for code, fields in edits.items():
        e = out.get(code)
        if e is None:
            continue
        values = {k: v["value"] for k, v in fields.items() if k in EDITABLE and v.get("value") is not None}
        changes: dict[str, Any] = {}
        if values.get("description_en"):
            changes["description"] = values["description_en"]
        if values.get("description_zh"):
            changes["description_zh"] = values["description_zh"]
        if values.get("sharing_class") in SHARING_CLASSES:
            changes["sharing_class"] = values["sharing_class"]
        if values.get("sharing_basis"):
            changes |= {"sharing_basis": values["sharing_basis"], "basis_edited": True}
        if values.get("open_class") in OPEN_CLASSES:
            changes["open_class"] = values["open_class"]
        latest = max(fields.values(), key=lambda v: v["at"])
        out[code] = dataclasses.replace(e, **changes, edited_at=latest["at"], edited_by=latest["actor"])
    return out


def _users(store, now: dt.datetime) -> dict[str, tuple[str, ...]]:
    """The departments holding an active grant of each entry."""
    found: dict[str, set[str]] = {}
    for r in store.share_requests():
        if r["status"].current(now) == "active":
            found.setdefault(r["entry_code"], set()).add(r["department"])
    return {k: tuple(sorted(v)) for k, v in found.items()}


def entries(snapshot=None, store=None, *, facts: Facts | None = None, now: dt.datetime | None = None) -> dict[str, Entry]:
    """The catalog, by code: every declared entry with its owner's latest edits (``store``: the
    operational store; none: the derived defaults), the departments holding an active grant,
    and the live facts of ``snapshot`` (a DuckDB connection on a serving snapshot) or of
    ``facts`` already read (none: unknown)."""
    found = declared()
    if facts is None and snapshot is not None:
        facts = read_facts(snapshot)
    if store is not None:
        found = with_edits(found, store.catalog_current())
        users = _users(store, now or dt.datetime.now())
        found = {c: dataclasses.replace(e, users=users.get(c, ())) for c, e in found.items()}
    if facts is not None:
        behind = _feeds_behind(found)
        found = {c: dataclasses.replace(e, stats=_stats(e, facts, behind)) for c, e in found.items()}
    return found


def entry(code: str, snapshot=None, store=None, *, facts: Facts | None = None) -> Entry | None:
    """One entry of :func:`entries` (None for a code the catalog does not hold)."""
    if code not in declared():
        return None
    return entries(snapshot, store, facts=facts).get(code)


# ------------------------------------------------------------------------------------- translations


def msgids() -> Iterator[tuple[str, str]]:
    """(context, English) of the derived words the catalog shows that no other extraction
    sees: library tables' titles and descriptions, and data items' titles."""
    for e in declared().values():
        for i in e.items:
            yield "data item", i.title
        if e.kind == "library":
            table = e.code.split("/", 2)[2]
            yield "catalog table", item_title(table)
            yield "catalog", e.description


def extract_names(fileobj, keywords, comment_tags, options):
    """Babel extraction method for this module (``babel.cfg``): its marked phrases, and the
    derived words of :func:`msgids`, so a new table or column is in the next extraction."""
    from babel.messages.extract import extract_python

    yield from extract_python(fileobj, keywords, comment_tags, options)
    seen = set()
    for context, text in msgids():
        if (context, text) not in seen:
            seen.add((context, text))
            yield 0, "pgettext", (context, text), []
