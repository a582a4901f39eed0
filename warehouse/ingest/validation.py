"""Set-based row validation: one SQL pass that types every column and lists every reason.

The query reads a delivery's rows as the loader parses them (see loaders) and writes the
temp table ``checked`` with the typed contract columns and ``problems``, a bit mask over
the feed's (reason, column) pairs (0 when the row is clean). The rules are integer
arithmetic and pattern tests rather than string copies, since they are most of the pass's cost.
Precedence keeps reasons exact: a cross-field ``mismatch`` is only judged when both
fields are individually valid.

Nothing of the feed's values is written into the SQL text: the business date, the code lists
and the mask's bits are bound (storage.sql), column names quoted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb

from warehouse.contract.feeds import CERTIFICATE_HOLDER, DEPARTMENTS, HANDLER_DEPARTMENTS, Column, Feed
from warehouse.storage.sql import Params, Sql, quote_ident


class CodeLists:
    """The code lists a feed's rules look values up in, each a temporary ENUM type.

    A cast to an ENUM looks the value up in a hash table, where ``NOT IN`` compares it with
    every code in turn: for the 58 ethnicity codes that is 700 instructions a row against
    175. A type's values are bound when it is made (:meth:`CheckedQuery.define_code_lists`).
    """

    def __init__(self) -> None:
        self.types: dict[Sql, list[str]] = {}

    def enum_cast(self, value: Sql, codes: Iterable[str]) -> Sql:
        """``value`` cast to the type of ``codes``: NULL when it is none of them (exact, case-sensitive)."""
        codes = list(codes)
        name = next((n for n, have in self.types.items() if have == codes), None)
        if name is None:
            name = quote_ident(f"cb_codes_{len(self.types)}")
            self.types[name] = codes
        return f"try_cast({value} AS {name})"


class ReasonBits:
    """Assigns one bit of the ``problems`` mask to each (reason, column) pair of a feed; in
    SQL a bit is the parameter ``$bit_<n>`` (:meth:`param`), bound in ``params``."""

    def __init__(self, params: Params | None = None) -> None:
        self.pairs: list[tuple[int, str, str | None]] = []
        self.params = Params() if params is None else params

    def add(self, reason: str, column: str | None) -> int:
        """The bit of (reason, column): the number of the pair, given when it is first asked for."""
        n = next((n for n, (_, r, c) in enumerate(self.pairs) if (r, c) == (reason, column)), len(self.pairs))
        if n == len(self.pairs):
            assert n < 62, "too many reason/column pairs for one mask"
            self.pairs.append((1 << n, reason, column))
        return n

    def param(self, reason: str, column: str | None) -> Sql:
        """The bit of (reason, column) in SQL: its parameter, bound to the bit's value."""
        n = self.add(reason, column)
        return self.params.bind(f"bit_{n}", 1 << n)


def _problem(bits: ReasonBits, cond: Sql, reason: str, column: str) -> Sql:
    return f"CASE WHEN {cond} THEN {bits.param(reason, column)} ELSE 0 END"


def _typed(col: Column) -> Sql | None:
    """Expression parsing a column's text into its staged type (None: staged as text)."""
    v = quote_ident(col.name)
    return {"date": f"cb_date({v})", "timestamp": f"cb_timestamp({v})", "number": f"cb_number({v})",
            "rating": f"cb_rating({v})"}.get(col.kind)


def _column_problems(bits: ReasonBits, lists: CodeLists, col: Column, districts: list[str], business_date: dt.date) -> Sql:
    """One CASE yielding the first applicable reason for a single column."""
    v, t = quote_ident(col.name), quote_ident(col.name + "__t")
    branches: list[tuple[Sql, str]] = []
    if col.required:
        branches.append((f"{v} IS NULL", "missing_value"))
    check: list[tuple[Sql, str]] = []
    if col.kind == "id_number":
        check.append((f"NOT {quote_ident(col.name + '__ok')}", "bad_id_number"))
    elif col.kind == "uscc":
        check.append((f"NOT {quote_ident(col.name + '__ok')}", "bad_uscc"))
    elif col.kind in ("date", "timestamp"):
        check.append((f"{t} IS NULL OR {t} < DATE '1900-01-01'", "bad_date"))
        if col.event_date:
            check.append((f"CAST({t} AS DATE) > {bits.params.bind('business_date', business_date)}", "future_date"))
    elif col.kind == "code":
        check.append((f"{lists.enum_cast(v, col.codes)} IS NULL", "bad_code"))
    elif col.kind == "district":
        check.append((f"{lists.enum_cast(v, districts)} IS NULL", "unknown_district"))
    elif col.kind in ("number", "rating"):
        check.append((f"{t} IS NULL", "bad_number"))
    elif col.kind == "handler":
        check.append((f"{lists.enum_cast(v, [*DEPARTMENTS, *HANDLER_DEPARTMENTS, *districts])} IS NULL", "bad_code"))
    if not branches and not check:
        return ""
    parts = [f"WHEN {c} THEN {bits.param(r, col.name)}" for c, r in branches]
    # Optional columns are only checked when present.
    parts += [f"WHEN {v} IS NOT NULL AND ({c}) THEN {bits.param(r, col.name)}" for c, r in check]
    case = "CASE " + " ".join(parts) + " ELSE 0 END"
    # A column of some event types only: ignored on the other rows.
    return f"CASE WHEN {lists.enum_cast('event_type', col.only_on)} IS NOT NULL THEN {case} ELSE 0 END" if col.only_on else case


def _holder_problems(bits: ReasonBits) -> list[Sql]:
    """dsb/certificate_events: the holder must be valid as the kind holder_type names."""
    types = bits.params.bind("holder_certificates", list(CERTIFICATE_HOLDER))
    kinds = bits.params.bind("holder_kinds", list(CERTIFICATE_HOLDER.values()))
    allowed = f"map_extract_value(map({types}, {kinds}), certificate_type)"
    # Kind the holder_id must have: holder_type if valid, else what the certificate type allows.
    kind = f"CASE WHEN holder_type IN ('person', 'legal_person') THEN holder_type ELSE {allowed} END"
    missing, mismatch = bits.param("missing_value", "holder_id"), bits.param("mismatch", "holder_id")
    bad_id, bad_uscc = bits.param("bad_id_number", "holder_id"), bits.param("bad_uscc", "holder_id")
    holder = (
        f"CASE WHEN holder_id IS NULL THEN {missing} "
        f"WHEN ({kind}) = 'person' THEN (CASE WHEN holder_id__id_ok THEN 0 "
        f"  WHEN holder_id__uscc_ok THEN {mismatch} ELSE {bad_id} END) "
        f"WHEN ({kind}) = 'legal_person' THEN (CASE WHEN holder_id__uscc_ok THEN 0 "
        f"  WHEN holder_id__id_ok THEN {mismatch} ELSE {bad_uscc} END) "
        f"WHEN NOT (holder_id__id_ok OR holder_id__uscc_ok) THEN {bad_id} ELSE 0 END"
    )
    type_vs_cert = _problem(
        bits,
        f"holder_type IN ('person', 'legal_person') AND {allowed} <> holder_type",
        "mismatch",
        "holder_type",
    )
    return [holder, type_vs_cert]


def _extra_problems(bits: ReasonBits, feed: Feed) -> list[Sql]:
    out: list[Sql] = []
    if "gender_matches_id" in feed.extra_checks:
        out.append(_problem(bits, "id_number__ok AND gender IN ('1', '2') AND gender <> cb_id_gender(id_number__n)", "mismatch", "gender"))
    if "birth_date_matches_id" in feed.extra_checks:
        out.append(
            _problem(
                bits,
                "id_number__ok AND birth_date__t >= DATE '1900-01-01' "
                "AND cb_date_ymd(birth_date__t) <> cb_id_ymd(id_number__n)",
                "mismatch",
                "birth_date",
            )
        )
    if "holder_matches_type" in feed.extra_checks:
        out += _holder_problems(bits)
    if "due_after_event" in feed.extra_checks:
        # A deadline before the dispatch it belongs to is not a readable date for it.
        out.append(_problem(bits, "event_type = 'dispatch' AND due_at__t < event_time__t", "bad_date", "due_at"))
    return out


@dataclass(frozen=True)
class CheckedQuery:
    """What :func:`checked_sql` builds: the SQL creating ``checked``, the values it binds, the
    code lists it casts to (temporary ENUM types) and the mask's (bit, reason, column) pairs."""

    sql: Sql
    params: dict[str, object]
    pairs: list[tuple[int, str, str | None]]
    code_lists: dict[Sql, list[str]] = field(default_factory=dict)

    def define_code_lists(self, con: duckdb.DuckDBPyConnection) -> None:
        """Make the ENUM types the query casts to, on ``con``, before the query runs."""
        for name, codes in self.code_lists.items():
            con.execute(f"CREATE OR REPLACE TEMP TYPE {name} AS ENUM (SELECT unnest(?))", [codes])


def checked_sql(
    feed: Feed,
    source_columns: dict[str, Sql | None],
    districts: list[str],
    business_date: dt.date,
    source: Sql,
    keep: list[str],
    raw_text: Sql,
) -> CheckedQuery:
    """SQL creating temp table ``checked`` from the rows ``source`` selects, with what it binds
    and the mask's (bit, reason, column) pairs.

    ``source`` is a SELECT yielding one text column per source column (``c0``, ``c1``, …);
    the loader runs it while it reads the file, so a delivery is read, typed and checked in
    one pass. ``source_columns`` maps each contract column to its source column, or None
    when the delivery lacks that (optional) column. ``keep`` names source columns carried
    into ``checked`` unchanged (line numbers). ``raw_text`` is an expression over the
    source columns giving a row's original text: ``checked._raw`` holds it for the rows
    that fail a check and is NULL for the rest, so the raw rows are never copied whole.
    The pair list always includes ``duplicate`` on the feed's key, which ingestion sets
    after comparing keys.
    """
    params = Params()
    bits, lists = ReasonBits(params), CodeLists()
    bits.add("duplicate", feed.key)
    src_cols: list[Sql] = []
    for c in feed.columns:
        src = source_columns.get(c.name)
        expr = f"cb_text({src})" if src else "NULL::VARCHAR"
        if c.kind in ("id_number", "uscc", "holder_id"):
            expr = f"upper({expr})"
        src_cols.append(f"{expr} AS {quote_ident(c.name)}")
        if c.kind in ("id_number", "holder_id"):
            src_cols.append(f"cb_id_digits({expr}) AS {quote_ident(c.name + '__n')}")
    typed_cols = [f"{_typed(c)} AS {quote_ident(c.name + '__t')}" for c in feed.columns if _typed(c)]
    # Each check character is computed once per column and reused by every rule.
    for c in feed.columns:
        v = quote_ident(c.name)
        n = quote_ident(c.name + "__n")
        if c.kind == "id_number":
            typed_cols.append(f"cb_id_number_ok_n({v}, {n}) AS {quote_ident(c.name + '__ok')}")
        elif c.kind == "uscc":
            typed_cols.append(f"cb_uscc_ok({v}) AS {quote_ident(c.name + '__ok')}")
        elif c.kind == "holder_id":
            typed_cols += [f"cb_id_number_ok_n({v}, {n}) AS holder_id__id_ok", f"cb_uscc_ok({v}) AS holder_id__uscc_ok"]
    problems = [p for c in feed.columns if c.kind != "holder_id"
                for p in [_column_problems(bits, lists, c, districts, business_date)] if p]
    problems += _extra_problems(bits, feed)
    out_cols = [f"{quote_ident(c.name + '__t')} AS {quote_ident(c.name)}" if _typed(c) else quote_ident(c.name) for c in feed.columns]
    kept = "".join(f"{quote_ident(k)}, " for k in keep)
    sql = f"""
CREATE OR REPLACE TEMP TABLE checked AS
WITH src AS (SELECT raw.*, {', '.join(src_cols)} FROM ({source}) AS raw),
typed AS (SELECT *{', ' + ', '.join(typed_cols) if typed_cols else ''} FROM src),
judged AS (SELECT *, ({' | '.join(problems) or '0'})::BIGINT AS problems FROM typed)
SELECT {kept}{', '.join(out_cols)}, problems, CASE WHEN problems <> 0 THEN {raw_text} END AS _raw
FROM judged
"""
    return CheckedQuery(sql, dict(params), bits.pairs, lists.types)
