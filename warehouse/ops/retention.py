"""Retention of personal data (docs/operations.md, "Retention"): the original text of
rejected rows is the only personal data kept outside the thematic libraries, and it is
kept only as long as a department may need it to fix and resubmit.

A purge is authorised by an auditor of the data resources bureau, run by an operator, and
written to the access audit log with the keyed hashes of every identity number it removed,
so a person can still learn that (and when) their rows were deleted.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from warehouse.ops.store import OpsStore, id_numbers_in

DEFAULT_DAYS = 180


def purge_rejected_rows(con: duckdb.DuckDBPyConnection, store: OpsStore, *, before: dt.date, authorised_by: str,
                        reason: str) -> int:
    """Delete the original text of rejected rows of deliveries for business dates before
    ``before`` (their reasons stay in ``ingest.rejections``); returns how many rows."""
    user = store.user(authorised_by)
    if user is None or user["role"] != "auditor" or user["disabled"]:
        raise PermissionError(f"'{authorised_by}' is not an active auditor: only an auditor may authorise a purge")
    if not reason.strip():
        raise ValueError("a purge needs a reason for the audit log")
    doomed = """FROM ingest.rejected_rows WHERE delivery_id IN
                (SELECT delivery_id FROM ingest.deliveries WHERE business_date < ?)"""
    con.execute("BEGIN")
    try:
        raws = [r for (r,) in con.execute(f"SELECT raw {doomed}", [before]).fetchall()]
        con.execute(f"DELETE {doomed}", [before])
        # Logged before the commit: a purge that is not in the log does not happen.
        store.log_access(authorised_by, "auditor", "purge_rejected_rows", delivery_id=None, rows=len(raws),
                         id_numbers=id_numbers_in(raws), purpose=f"retention before {before.isoformat()}: {reason.strip()}"[:200],
                         scope="dsb", legal_basis="retention")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(raws)
