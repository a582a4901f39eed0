"""Citizens' requests (the 12345 hotline's tickets): the overdue ones in a caller's scope and
how each handler performs. Limited by :func:`cockpit.data.scope.row_filter`."""

from __future__ import annotations

import pandas as pd

from cockpit.data.indicators import by_dimension
from cockpit.data.reference import info
from cockpit.data.scope import row_filter
from cockpit.data.snapshot import shared
from cockpit.roles import Principal


def overdue_tickets_for(who: Principal) -> pd.DataFrame:
    """Open requests past their due time on the snapshot's clock, in ``who``'s scope: a district
    manager's own district, a steward's own department as handler (the hotline's steward: every
    one), the whole city for city managers. The snapshot holds no caller, so none can leak."""
    scope = row_filter(who, "see_requests")
    if scope is None:
        return pd.DataFrame()
    as_of = info().get("as_of")
    return shared("overdue_tickets_for",
        """SELECT *, date_diff('day', due_at, CAST(? AS TIMESTAMP)) AS days_overdue FROM open_tickets
           WHERE due_at < CAST(? AS TIMESTAMP) AND (? IS NULL OR district_code = ?) AND (? IS NULL OR handler = ?)
           ORDER BY due_at, ticket_no""",
        (as_of, as_of, scope.district, scope.district, scope.handler, scope.handler),
    )


def handler_performance(who: Principal) -> pd.DataFrame:
    """Each handler's on-time closure over the last 30 days of data and its overdue requests on
    the last day (city-wide aggregates); a department's steward sees its own line only."""
    df = shared("handler_performance",
        """WITH last AS (SELECT max(date) AS d FROM indicator_values WHERE indicator_id = 'svc.on_time_rate'),
                -- Each handler's indicators by the code catalog's handler dimension (bound).
                hr AS (SELECT unnest(?) AS indicator_id, unnest(?) AS handler),
                ho AS (SELECT unnest(?) AS indicator_id, unnest(?) AS handler),
                r AS (SELECT hr.handler, sum(numerator) / nullif(sum(denominator), 0) AS on_time_rate
                      FROM indicator_values v JOIN hr USING (indicator_id)
                      WHERE district_code = ? AND date > (SELECT d FROM last) - 30 GROUP BY 1),
                o AS (SELECT ho.handler, value AS overdue
                      FROM indicator_values v JOIN ho USING (indicator_id)
                      WHERE district_code = ? AND date = (SELECT d FROM last))
           SELECT r.handler, r.on_time_rate, coalesce(o.overdue, 0) AS overdue
           FROM r LEFT JOIN o USING (handler) ORDER BY r.on_time_rate NULLS LAST, r.handler""",
        (*by_dimension("svc.on_time_rate.{code}", "handler"), *by_dimension("svc.overdue.{code}", "handler"),
         info().get("city_code", ""), info().get("city_code", "")),
    )
    scope = row_filter(who)
    if scope is not None and scope.handler is not None and not df.empty:
        return df[df.handler == scope.handler]
    return df
