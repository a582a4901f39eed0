"""The indicator catalog: ``catalog.toml`` read into :class:`Indicator` entries.

The TOML file beside the SQL is the one place an indicator is described (its header says
what every field means); everything else about an indicator (its lineage, whether it is a
flow, its card on the overview, its dimensions) is derived from the entry here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable

import duckdb

from warehouse.contract.feeds import DEPARTMENTS, FEEDS, REQUEST_CATEGORIES, REQUEST_HANDLERS
from warehouse.libraries.build import feeds_behind

_HERE = resources.files(__package__)
_SQL = _HERE / "sql"
CATALOG_FILE = "catalog.toml"
TEMPLATE = "{code}"  # a dimension's value that stands for one indicator per code


@dataclass(frozen=True)
class Indicator:
    """One catalog entry, templates expanded (see ``catalog.toml`` for each field)."""

    id: str
    name_zh: str
    name_en: str
    unit: str
    domain: str
    owner: str
    kind: str
    direction: str
    scope: str
    target: float | None = None
    warn: float | None = None
    critical: float | None = None
    anomaly: bool = False
    sql: str | None = None
    params: dict = field(default_factory=dict)
    score: str | None = None
    alerts_to: str | None = None
    definition_zh: str = ""  # what the value means, for its readers
    definition_en: str = ""  # the same in English (else its SQL's leading comment)
    reads: tuple[str, ...] = ()  # the feeds and library tables the value is made from
    flow: bool = False  # counts the rows its feeds date each day; NULL (not 0) on a day one did not deliver
    dimensions: dict = field(default_factory=dict)  # code list -> code: what part of its kind it is about
    overview: int | None = None  # its card's place on the overview (None: no card)
    signed: bool = False  # a count that may be negative (net migration)
    forecast: bool = False  # forecast at every refresh (marts.forecasts)
    feeds: tuple[str, ...] = ()  # derived: a flow's feeds ("department/feed"), from ``reads``
    template: str | None = None  # derived: the templated id it was expanded from ("svc.requests.{code}")

    def __post_init__(self) -> None:
        object.__setattr__(self, "reads", tuple(self.reads))
        object.__setattr__(self, "feeds", tuple(self.feeds))

    @property
    def sql_file(self) -> Traversable:
        return _SQL / f"{self.sql or self.id}.sql"

    def definition(self) -> str:
        """What the number means, in English: the catalog's words for readers, else the first
        comment lines of its SQL."""
        if self.definition_en:
            return self.definition_en
        lines = self.sql_file.read_text(encoding="utf-8").splitlines()
        return " ".join(line.lstrip("- ").strip() for line in lines if line.startswith("--"))


def code_lists() -> dict[str, dict[str, tuple[str, str]]]:
    """The contract's code lists an indicator's dimension can take its codes from."""
    return {
        "handler": REQUEST_HANDLERS,
        "category": REQUEST_CATEGORIES,
        "department": {d: DEPARTMENTS[d] for d in dict.fromkeys(f.department for f in FEEDS)},
    }


def _expand(entry: dict) -> list[dict]:
    """An entry with a dimension whose value is ``{code}`` stands for one indicator per code of
    that code list, with ``{code}``, ``{name_zh}`` and ``{name_en}`` filled in everywhere."""
    each = [d for d, v in entry.get("dimensions", {}).items() if v == TEMPLATE]
    if not each:
        return [entry]
    if len(each) > 1:
        raise ValueError(f"{entry['id']}: one templated dimension per entry, not {each}")

    def fill(value, code: str, zh: str, en: str):
        if isinstance(value, dict):
            return {k: fill(v, code, zh, en) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v, code, zh, en) for v in value]
        return value.format(code=code, name_zh=zh, name_en=en) if isinstance(value, str) else value

    return [{**fill(entry, code, zh, en), "template": entry["id"]} for code, (zh, en) in code_lists()[each[0]].items()]


def _indicator(entry: dict) -> Indicator:
    """An expanded entry, with a flow's feeds resolved from what it reads."""
    flow = entry.get("flow", False)
    feeds = tuple(dict.fromkeys(f for r in entry.get("reads", ()) for f in feeds_behind(r))) if flow else ()
    return Indicator(**entry, feeds=feeds)


def load(text: str) -> tuple[Indicator, ...]:
    """The indicators of a catalog written as TOML text, templates expanded, in catalog order."""
    raw = tomllib.loads(text)
    return tuple(_indicator(e) for entry in raw["indicator"] for e in _expand(dict(entry)))


@lru_cache(maxsize=1)
def catalog() -> tuple[Indicator, ...]:
    """Every indicator in ``catalog.toml``, templates expanded, in catalog order."""
    return load((_HERE / CATALOG_FILE).read_text(encoding="utf-8"))


def overview() -> tuple[Indicator, ...]:
    """The indicators with a card on the overview, in the order of their cards."""
    return tuple(sorted((i for i in catalog() if i.overview is not None), key=lambda i: i.overview))


def write_catalog(con: duckdb.DuckDBPyConnection) -> None:
    """Copy the catalog into ``marts.indicator_catalog`` (its columns are the warehouse's
    migrations: a new catalog field is a new numbered migration and a column here). The
    columns are named: a warehouse made before migrations has them in another order."""
    con.execute("DELETE FROM marts.indicator_catalog")
    con.executemany(
        """INSERT INTO marts.indicator_catalog (indicator_id, name_zh, name_en, unit, domain, owner, kind, direction, scope,
                                               target, warn, critical, anomaly, definition, score, alerts_to, definition_zh,
                                               forecast, signed, feeds, reads, flow, dimensions, overview, template)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [(i.id, i.name_zh, i.name_en, i.unit, i.domain, i.owner, i.kind, i.direction, i.scope, i.target, i.warn,
          i.critical, i.anomaly, i.definition(), i.score, i.alerts_to, i.definition_zh, i.forecast, i.signed, list(i.feeds),
          list(i.reads), i.flow, i.dimensions, i.overview, i.template)
         for i in catalog()],
    )
