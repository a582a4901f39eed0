"""Checks on the libraries: key uniqueness and referential-integrity rates."""

from __future__ import annotations

import duckdb

from warehouse.libraries.build import LIBRARIES
from warehouse.storage.sql import Sql, quote_ident, quote_table


def key_duplicates(con: duckdb.DuckDBPyConnection, table: str, key: str, among: Sql | None = None) -> int:
    """How many key values of ``table`` (``schema.name``) appear more than once (0 for a
    healthy library); with ``among`` (a table of keys in column ``k``, as SQL text:
    ``Library.affected_table``), among those keys only.

    After an incremental build only the rebuilt records can have gained a twin (the others
    were not written), so checking them keeps the invariant at the cost of the day's
    changes: at city scale, thousands of keys instead of grouping 21M certificates."""
    k = quote_ident(key)
    where = f"WHERE {k} IN (SELECT k FROM {among})" if among else ""
    return con.execute(
        f"SELECT count(*) FROM (SELECT {k} FROM {quote_table(table)} {where} GROUP BY {k} HAVING count(*) > 1)"
    ).fetchone()[0]


def integrity_rates(con: duckdb.DuckDBPyConnection, library: str) -> dict[str, float]:
    """Shares of references from ``library`` that resolve in the other libraries (its ``rates``)."""
    return {name: float(con.execute(sql).fetchone()[0]) for name, sql in LIBRARIES[library].rates}
