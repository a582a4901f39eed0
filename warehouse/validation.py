"""Set-based row validation: one SQL pass that types every column and lists every reason.

The query reads ``raw_rows`` (see loaders) and writes the temp table ``checked`` with the
typed contract columns and ``problems``, a list of ``'reason|column'`` strings (empty
when the row is clean). Precedence keeps reasons exact: a cross-field ``mismatch`` is
only judged when both fields are individually valid.
"""

from __future__ import annotations

import datetime as dt

from warehouse.contract import CERTIFICATE_HOLDER, Column, Feed


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_list(values: list[str] | tuple[str, ...]) -> str:
    return "(" + ", ".join(_lit(v) for v in values) + ")"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _problem(cond: str, reason: str, column: str) -> str:
    return f"CASE WHEN {cond} THEN {_lit(reason + '|' + column)} END"


def _typed(col: Column) -> str | None:
    """Expression parsing a column's text into its staged type (None: staged as text)."""
    v = _q(col.name)
    return {"date": f"cb_date({v})", "timestamp": f"cb_timestamp({v})", "number": f"cb_number({v})"}.get(col.kind)


def _column_problems(col: Column, districts: list[str], business_date: str) -> str:
    """One CASE yielding the first applicable reason for a single column."""
    v, t = _q(col.name), _q(col.name + "__t")
    branches: list[tuple[str, str]] = []
    if col.required:
        branches.append((f"{v} IS NULL", "missing_value"))
    check: list[tuple[str, str]] = []
    if col.kind == "id_number":
        check.append((f"NOT {_q(col.name + '__ok')}", "bad_id_number"))
    elif col.kind == "uscc":
        check.append((f"NOT {_q(col.name + '__ok')}", "bad_uscc"))
    elif col.kind in ("date", "timestamp"):
        check.append((f"{t} IS NULL OR {t} < DATE '1900-01-01'", "bad_date"))
        if col.event_date:
            check.append((f"CAST({t} AS DATE) > DATE {business_date}", "future_date"))
    elif col.kind == "code":
        check.append((f"{v} NOT IN {_in_list(col.codes)}", "bad_code"))
    elif col.kind == "district":
        check.append((f"{v} NOT IN {_in_list(districts)}", "unknown_district"))
    elif col.kind == "number":
        check.append((f"{t} IS NULL", "bad_number"))
    if not branches and not check:
        return ""
    parts = [f"WHEN {c} THEN {_lit(r + '|' + col.name)}" for c, r in branches]
    # Optional columns are only checked when present.
    parts += [f"WHEN {v} IS NOT NULL AND ({c}) THEN {_lit(r + '|' + col.name)}" for c, r in check]
    return "CASE " + " ".join(parts) + " END"


def _holder_problems() -> list[str]:
    """dsb/certificate_events: the holder must be valid as the kind holder_type names."""
    allowed = " ".join(f"WHEN {_lit(t)} THEN {_lit(k)}" for t, k in CERTIFICATE_HOLDER.items())
    # Kind the holder_id must have: holder_type if valid, else what the certificate type allows.
    kind = f"CASE WHEN holder_type IN ('person', 'legal_person') THEN holder_type ELSE (CASE certificate_type {allowed} END) END"
    holder = (
        "CASE WHEN holder_id IS NULL THEN 'missing_value|holder_id' "
        f"WHEN ({kind}) = 'person' THEN (CASE WHEN holder_id__id_ok THEN NULL "
        "  WHEN holder_id__uscc_ok THEN 'mismatch|holder_id' ELSE 'bad_id_number|holder_id' END) "
        f"WHEN ({kind}) = 'legal_person' THEN (CASE WHEN holder_id__uscc_ok THEN NULL "
        "  WHEN holder_id__id_ok THEN 'mismatch|holder_id' ELSE 'bad_uscc|holder_id' END) "
        "WHEN NOT (holder_id__id_ok OR holder_id__uscc_ok) THEN 'bad_id_number|holder_id' END"
    )
    type_vs_cert = _problem(
        f"holder_type IN ('person', 'legal_person') AND (CASE certificate_type {allowed} END) <> holder_type",
        "mismatch",
        "holder_type",
    )
    return [holder, type_vs_cert]


def _extra_problems(feed: Feed) -> list[str]:
    out: list[str] = []
    if "gender_matches_id" in feed.extra_checks:
        out.append(_problem("id_number__ok AND gender IN ('1', '2') AND gender <> cb_id_gender(id_number)", "mismatch", "gender"))
    if "birth_date_matches_id" in feed.extra_checks:
        out.append(
            _problem(
                "id_number__ok AND birth_date__t >= DATE '1900-01-01' "
                "AND birth_date__t <> cb_id_birth_date(id_number)",
                "mismatch",
                "birth_date",
            )
        )
    if "holder_matches_type" in feed.extra_checks:
        out += _holder_problems()
    return out


def checked_sql(feed: Feed, source_columns: dict[str, str | None], districts: list[str], business_date: dt.date) -> str:
    """SQL creating temp table ``checked`` from ``raw_rows``.

    ``source_columns`` maps each contract column to its ``raw_rows`` column (``c3``), or
    None when the delivery lacks that (optional) column.
    """
    bd = _lit(business_date.isoformat())
    src_cols = []
    for c in feed.columns:
        src = source_columns.get(c.name)
        expr = f"NULLIF(trim({src}), '')" if src else "NULL::VARCHAR"
        if c.kind in ("id_number", "uscc", "holder_id"):
            expr = f"upper({expr})"
        src_cols.append(f"{expr} AS {_q(c.name)}")
    typed_cols = [f"{_typed(c)} AS {_q(c.name + '__t')}" for c in feed.columns if _typed(c)]
    # Each check character is computed once per column and reused by every rule.
    for c in feed.columns:
        v = _q(c.name)
        if c.kind == "id_number":
            typed_cols.append(f"cb_id_number_ok({v}) AS {_q(c.name + '__ok')}")
        elif c.kind == "uscc":
            typed_cols.append(f"cb_uscc_ok({v}) AS {_q(c.name + '__ok')}")
        elif c.kind == "holder_id":
            typed_cols += [f"cb_id_number_ok({v}) AS holder_id__id_ok", f"cb_uscc_ok({v}) AS holder_id__uscc_ok"]
    problems = [p for c in feed.columns if c.kind != "holder_id" for p in [_column_problems(c, districts, bd)] if p]
    problems += _extra_problems(feed)
    out_cols = [f"{_q(c.name + '__t')} AS {_q(c.name)}" if _typed(c) else _q(c.name) for c in feed.columns]
    return f"""
CREATE OR REPLACE TEMP TABLE checked AS
WITH src AS (SELECT _line, _rid, {', '.join(src_cols)} FROM raw_rows),
typed AS (SELECT *{', ' + ', '.join(typed_cols) if typed_cols else ''} FROM src)
SELECT _line, _rid, {', '.join(out_cols)},
       list_filter([{', '.join(problems)}], lambda p: p IS NOT NULL) AS problems
FROM typed
"""
