"""What the stewards and auditors read about ingestion: deliveries, timeliness, findings and
rejections (counts, no row contents), and the rejected rows of one delivery for the steward of
the department that delivered it. Each limited by :func:`cockpit.data.scope.row_filter`."""

from __future__ import annotations

import pandas as pd

from cockpit.data.scope import row_filter
from cockpit.data.snapshot import query, shared
from cockpit.roles import Principal


def _feed_health(who: Principal, name: str, sql: str) -> pd.DataFrame:
    """``sql`` (two parameters: the department, twice, NULL for every department) as the caller's
    scope of feed health allows: a steward's own department, every department for auditors,
    nothing (an empty table) for a caller who may not see feed health."""
    scope = row_filter(who, "see_feed_health")
    if scope is None:
        return pd.DataFrame()
    return shared(name, sql, (scope.department, scope.department))


def deliveries_for(who: Principal) -> pd.DataFrame:
    """A steward's own department's deliveries; every department's for auditors (no row contents)."""
    return _feed_health(who, "deliveries_for", "SELECT * FROM deliveries WHERE ? IS NULL OR department = ? ORDER BY delivery_id DESC")


def deliveries_by_id(ids: list[int]) -> dict[int, tuple[str, str, str]]:
    """(department, feed, business date) of the given deliveries: what an audit entry refers to."""
    if not ids:
        return {}
    df = query("deliveries_by_id", "SELECT delivery_id, department, feed, CAST(business_date AS VARCHAR) AS day FROM deliveries "
               "WHERE delivery_id IN (SELECT unnest(?))", [sorted(set(ids))])
    return {int(r.delivery_id): (r.department, r.feed, r.day) for r in df.itertuples()}


def feed_days_for(who: Principal) -> pd.DataFrame:
    """Timeliness per feed and business date: a steward's own feeds, every feed for auditors."""
    return _feed_health(who, "feed_days_for",
                        "SELECT * FROM feed_days WHERE ? IS NULL OR department = ? ORDER BY department, feed, business_date")


def findings_for(who: Principal) -> pd.DataFrame:
    """Cross-department findings (counts, no persons) a steward's department owns; all for auditors."""
    return _feed_health(who, "findings_for", """SELECT rule, owner_department, CAST(sum(findings) AS BIGINT) AS findings, min(since) AS since
                        FROM findings_summary WHERE ? IS NULL OR owner_department = ? GROUP BY ALL ORDER BY findings DESC""")


def rejection_reasons_for(who: Principal) -> pd.DataFrame:
    """Rejected rows per business date and reason (counts): a steward's own department's, all for auditors."""
    return _feed_health(who, "rejection_reasons_for",
                        """SELECT d.business_date, r.reason, count(*) AS n FROM rejections r JOIN deliveries d USING (delivery_id)
                           WHERE ? IS NULL OR d.department = ? GROUP BY ALL ORDER BY 1, 2""")


def rejected_rows_for(who: Principal, delivery_id: int) -> pd.DataFrame:
    """The rejected rows of one delivery, only for a steward of the department that delivered it."""
    scope = row_filter(who, "see_rejected_rows")
    if scope is None or scope.department is None:
        return pd.DataFrame()
    return query("rejected_rows_for",
        """SELECT r.line_number, string_agg(j.reason || coalesce(':' || j.column_name, ''), ', ' ORDER BY j.reason) AS reasons, r.raw
           FROM rejected_rows r JOIN rejections j USING (delivery_id, line_number)
           WHERE r.delivery_id = ? AND r.department = ? GROUP BY ALL ORDER BY r.line_number""",
        [delivery_id, scope.department],
    )
