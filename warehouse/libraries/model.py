"""What a thematic library declares: the feeds it fuses, its SQL models, and which of its
records a new delivery can touch. ``build.py`` runs any library from this declaration."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from warehouse.storage.sql import Sql, quote_ident, read_sql

_KEYS = re.compile(r"__KEYS__\(([^)]+)\)")

# Rows of deliveries ingested (or superseded) since the library's previous build.
CHANGED: Sql = "_delivery_id IN (SELECT delivery_id FROM cb_changed)"


@dataclass(frozen=True)
class Model:
    """One SQL model (``<library>/<file>``): the table it fills, keyed by ``key``, and what it
    ``reads``: contract feeds (``department/feed``, through the ``live_<feed>`` views) and
    library tables. Lineage follows ``reads`` from an indicator back to the feeds.

    ``__KEYS__(column)`` in the SQL limits it to the affected records of an incremental
    build (and to every record in a full one)."""

    file: str
    table: str
    key: str
    reads: tuple[str, ...]


@dataclass(frozen=True)
class Library:
    """A thematic library: a DuckDB schema of the same name with its own folder of SQL.

    ``feeds`` are the contract feeds (``department/feed``) whose live rows it holds; each
    gets a ``<library>.live_<feed>`` view. ``affected`` is SQL giving the keys that the
    changed deliveries (``CHANGED``) touch; ``after`` the libraries its build reads, built
    first; ``rates`` name the shares of its references that resolve in other libraries.
    ``description`` is what the Dagster UI says of it; ``name_zh`` and ``name_en`` are what
    people read (its build step on the analyst's console)."""

    name: str
    name_zh: str
    name_en: str
    description: str
    feeds: tuple[str, ...]
    models: tuple[Model, ...]
    affected: Sql
    after: tuple[str, ...] = ()
    rates: tuple[tuple[str, str], ...] = ()

    @property
    def affected_table(self) -> Sql:
        """The temporary table an incremental build fills with the affected keys (quoted)."""
        return quote_ident(f"cb_affected_{self.name}")

    def sql(self, file: str) -> Sql:
        """One of the library's SQL files (shipped inside its package)."""
        return read_sql(resources.files(f"{__package__}.{self.name}").joinpath(file))

    def render(self, model: Model, *, incremental: bool) -> Sql:
        """A model's SQL limited to the affected keys, or to every key."""
        sql = self.sql(model.file)
        if not incremental:
            return _KEYS.sub("TRUE", sql)
        return _KEYS.sub(rf"\1 IN (SELECT k FROM {self.affected_table})", sql)
