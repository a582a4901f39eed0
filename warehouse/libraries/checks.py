"""Checks on the libraries: key uniqueness and referential-integrity rates."""

from __future__ import annotations

import duckdb

from warehouse.libraries.build import LIBRARIES


def key_duplicates(con: duckdb.DuckDBPyConnection, table: str, key: str, among: str | None = None) -> int:
    """How many key values appear more than once (0 for a healthy library); with ``among``
    (a table of keys in column ``k``), among those keys only.

    After an incremental build only the rebuilt records can have gained a twin (the others
    were not written), so checking them keeps the invariant at the cost of the day's
    changes: at city scale, thousands of keys instead of grouping 21M certificates."""
    where = f"WHERE {key} IN (SELECT k FROM {among})" if among else ""
    return con.execute(
        f"SELECT count(*) FROM (SELECT {key} FROM {table} {where} GROUP BY {key} HAVING count(*) > 1)"
    ).fetchone()[0]


def integrity_rates(con: duckdb.DuckDBPyConnection, library: str) -> dict[str, float]:
    """Shares of references from ``library`` that resolve in the other libraries (its ``rates``)."""
    return {name: float(con.execute(sql).fetchone()[0]) for name, sql in LIBRARIES[library].rates}
