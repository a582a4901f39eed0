"""The one rule for putting names into SQL text.

Values (dates, ids, codes, numbers, lists) never enter SQL text: they are bound as
parameters (``?`` or ``$name``; an ENUM type's values too: ``CREATE TYPE t AS ENUM (SELECT
unnest(?))``), or, where DuckDB takes no parameter (a view's or a macro's body), loaded into a
table the SQL reads. Identifiers (schemas, tables, columns) cannot be
bound; they come only from code constants or the contract, or name the columns of a delivered
file, and reach SQL through :func:`quote_ident`, never quoted by hand.

SQL text the code builds is typed :data:`Sql`: a function that returns some says so
(``-> Sql``), as does a parameter or field that holds some. ``tests/warehouse/storage/test_sql_style.py``
reads every f-string, ``+`` and ``.format`` that builds SQL and fails on any part that is not
text written in the code, a name through :func:`quote_ident`, a :func:`placeholder`, or SQL
text of that kind: a value spliced into the text fails, quoted or not.
"""

from __future__ import annotations

import re
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TypeAlias

Sql: TypeAlias = str
"""SQL text made of the code's own words, quoted names and placeholders: never a value."""

_PARAMETER = re.compile(r"[a-z_][a-z0-9_]*")


def quote_ident(*parts: str) -> Sql:
    """A (possibly qualified) identifier quoted for DuckDB, SQLite and PostgreSQL alike:
    ``quote_ident("staging", "psb/x")`` is ``"staging"."psb/x"``; a double quote inside a
    name is doubled, so any text is a safe identifier."""
    if not parts or any(not p for p in parts):
        raise ValueError(f"an identifier needs a non-empty name: {parts!r}")
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def quote_table(dotted: str) -> Sql:
    """A ``schema.table`` name written in code, quoted: ``quote_table("population.persons")``
    is ``"population"."persons"``."""
    return quote_ident(*dotted.split("."))


def read_sql(file: Traversable | Path) -> Sql:
    """The text of a ``.sql`` file shipped with the code: SQL written in the code, as a literal is."""
    if not file.name.endswith(".sql"):
        raise ValueError(f"not a .sql file: {file.name}")
    return file.read_text(encoding="utf-8")


def placeholder(name: str) -> Sql:
    """The named parameter ``$name`` of DuckDB, for SQL that generates its parameters (one
    per reason of a mask, say); the value itself is bound under ``name``."""
    if not _PARAMETER.fullmatch(name):
        raise ValueError(f"a parameter is named in lowercase words: {name!r}")
    return "$" + name


class Params(dict):
    """The values a query binds by name: :meth:`bind` records one and returns its placeholder,
    so SQL assembled from fragments carries exactly the parameters its text names."""

    def bind(self, name: str, value: object) -> Sql:
        """``$name`` for the text, ``value`` recorded under ``name`` (twice only with the same value)."""
        if name in self and self[name] != value:
            raise ValueError(f"${name} is bound to two different values")
        self[name] = value
        return placeholder(name)
