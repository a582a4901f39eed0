"""Per-feed quality metrics behind the ingestion asset checks (GB/T 36344 spirit).

All computed from the ledger of live deliveries, so they are cheap and set-based.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from warehouse.contract.feeds import Feed

# Thresholds: (warn, error). Rejection rate is rows rejected / rows read of the latest day.
REJECTION_RATE = (0.02, 0.10)
ROW_BAND = 0.5  # warn when a day's rows are outside median ± 50% of the previous 14 days
ON_TIME_WARN = 0.9  # warn when fewer than 90% of the last 14 days' deliveries were on time
WINDOW_DAYS = 14


@dataclass(frozen=True)
class FeedHealth:
    """What the checks judge for one feed, about its latest business date."""

    latest_date: str | None
    rows_read: int
    rows_rejected: int
    rejection_rate: float
    band_low: float | None
    band_high: float | None
    on_time_rate: float | None
    late_deliveries: int
    drift_columns: list[str]
    rejected_files: int


def feed_health(con: duckdb.DuckDBPyConnection, feed: Feed) -> FeedHealth:
    """Health of ``feed`` on its most recent business date (and the window before it)."""
    row = con.execute(
        """
        WITH d AS (
            SELECT business_date, rows_read, rows_rejected, status, arrived_at, extra_columns,
                   arrived_at <= business_date + to_hours($deadline_hours) AS on_time
            FROM ingest.deliveries
            WHERE department = $department AND feed = $feed AND status <> 'superseded' AND business_date IS NOT NULL),
        latest AS (SELECT max(business_date) AS day FROM d),
        per_day AS (SELECT business_date, sum(rows_read) AS rows FROM d WHERE status <> 'rejected' GROUP BY 1),
        hist AS (SELECT median(rows) AS med FROM per_day, latest
                 WHERE business_date < latest.day AND business_date >= latest.day - $window_days)
        SELECT strftime(any_value(latest.day), '%Y-%m-%d'),
               coalesce(sum(rows_read) FILTER (WHERE d.business_date = latest.day AND status <> 'rejected'), 0),
               coalesce(sum(rows_rejected) FILTER (WHERE d.business_date = latest.day AND status <> 'rejected'), 0),
               any_value(hist.med),
               avg(CASE WHEN on_time THEN 1.0 ELSE 0.0 END) FILTER (WHERE d.business_date > latest.day - $window_days),
               count(*) FILTER (WHERE NOT on_time AND d.business_date > latest.day - $window_days),
               list_distinct(flatten(list(extra_columns) FILTER (WHERE d.business_date > latest.day - $window_days))),
               count(*) FILTER (WHERE d.business_date = latest.day AND status = 'rejected')
        FROM d, latest, hist
        """,
        {"department": feed.department, "feed": feed.name, "deadline_hours": feed.deadline_hours, "window_days": WINDOW_DAYS},
    ).fetchone()
    day, rows, rejected, med, on_time, late, drift, rejected_files = row if row else (None, 0, 0, None, None, 0, [], 0)
    return FeedHealth(
        latest_date=day,
        rows_read=int(rows or 0),
        rows_rejected=int(rejected or 0),
        rejection_rate=(rejected / rows) if rows else 0.0,
        band_low=None if med is None else med * (1 - ROW_BAND),
        band_high=None if med is None else med * (1 + ROW_BAND),
        on_time_rate=None if on_time is None else float(on_time),
        late_deliveries=int(late or 0),
        drift_columns=sorted(drift or []),
        rejected_files=int(rejected_files or 0),
    )
