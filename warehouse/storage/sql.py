"""The one rule for putting names into SQL text.

Values (dates, ids, codes, numbers, lists) never enter SQL text: they are bound as
parameters (``?`` or ``$name``), or, where DuckDB takes no parameter (a view's body, a type),
loaded into a temporary table the SQL reads. Identifiers (schemas, tables, columns) cannot be
bound; they come only from code constants or the contract, or name the columns of a delivered
file, and reach SQL through :func:`quote_ident`, never quoted by hand.
``tests/warehouse/test_sql_style.py`` fails on SQL text that splices a value.
"""

from __future__ import annotations


def quote_ident(*parts: str) -> str:
    """A (possibly qualified) identifier quoted for DuckDB, SQLite and PostgreSQL alike:
    ``quote_ident("staging", "psb/x")`` is ``"staging"."psb/x"``; a double quote inside a
    name is doubled, so any text is a safe identifier."""
    if not parts or any(not p for p in parts):
        raise ValueError(f"an identifier needs a non-empty name: {parts!r}")
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)
