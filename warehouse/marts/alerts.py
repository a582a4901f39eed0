"""Alerts: missing feeds, thresholds, anomalies and cross-department inconsistencies.

Every refresh computes the conditions that hold now, then merges them into
``marts.alerts``: an alert's id is a hash of (rule, date, district, subject), so a
condition that holds across re-runs stays one row. New conditions open alerts; alerts
whose condition cleared are resolved, and a resolved alert whose condition returns is
reopened. ``status`` is the condition's (open or resolved, the contract's); what people do
about an alert (dispatch, handle, close) is kept by the cockpit in the operational store
(``warehouse.ops.alert_loop``), which this module never reads.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from warehouse.contract.city import load_city
from warehouse.contract.feeds import FEED_TABLE, OWNER_DEPARTMENTS, load_feed_table
from warehouse.contract.labels import render
from warehouse.contract.workdays import day_kind

RECENT_DAYS = 7  # thresholds and anomalies are judged on the latest week of data
BASELINE_DAYS = 28  # anomaly baseline: the same kind of day (workday / rest day) over four weeks
ANOMALY_Z = 5.0
ANOMALY_MIN_DELTA = 5.0  # ignore tiny counts moving by a few units
ANOMALY_MIN_MEDIAN = 20.0  # below this volume a day's count is too noisy to call an anomaly

# marts.alerts is made by the warehouse's migrations (warehouse/migrations/).
_CONDITIONS = """
CREATE OR REPLACE TEMP TABLE cb_conditions (
    rule_id VARCHAR, severity VARCHAR, date DATE, district_code VARCHAR, subject VARCHAR,
    message_key VARCHAR, message_params JSON, owner_kind VARCHAR, owner_scope VARCHAR, family VARCHAR, message VARCHAR
)"""
_INSERT = ("INSERT INTO cb_conditions (rule_id, severity, date, district_code, subject, message_key, message_params, "
           "owner_kind, owner_scope, family)")


def _feed_missing(con: duckdb.DuckDBPyConnection, as_of: dt.datetime, first: dt.date) -> None:
    city = load_city().code
    load_feed_table(con)
    con.execute(
        _INSERT + f"""
           SELECT 'feed_missing',
                  -- critical a day after the deadline
                  CASE WHEN $as_of > cb_due_at(d.day, f.deadline_hours + 24) THEN 'critical' ELSE 'warning' END,
                  d.day, $city, f.department || '/' || f.feed,
                  'feed_missing', json_object('department', f.department, 'feed', f.department || '/' || f.feed,
                                              'day', strftime(d.day, '%Y-%m-%d'),
                                              'deadline', strftime(cb_due_at(d.day, f.deadline_hours), '%m-%d %H:%M')),
                  'department', f.department, 'feed'
           FROM (SELECT CAST(x AS DATE) AS day FROM range($first::DATE, CAST($as_of AS DATE), INTERVAL 1 DAY) t(x)) d,
                {FEED_TABLE} f
           WHERE cb_due_at(d.day, f.deadline_hours) <= $as_of
             AND NOT EXISTS (SELECT 1 FROM ingest.live_deliveries l
                             WHERE l.department = f.department AND l.feed = f.feed AND l.business_date = d.day)""",
        {"as_of": as_of, "first": first, "city": city},
    )


def _consistency(con: duckdb.DuckDBPyConnection, as_of: dt.datetime) -> None:
    """Findings summarised per rule, owner and district for the clock date, no personal data
    in the text: a district's findings are its own alert, so its manager sees and can act on
    them (findings of no known district stay the city's).

    ``deceased_with_valid_certificate`` is one alert per date (CONTRACT §4) whichever
    departments issued the certificates and wherever the holders lived; the data resources
    bureau owns it.
    """
    city = load_city()
    con.execute(
        _INSERT + """
           SELECT CASE WHEN rule = 'deceased_with_valid_certificate' THEN rule ELSE 'consistency:' || rule END,
                  CASE WHEN rule IN ('deceased_with_valid_certificate', 'death_not_deregistered') THEN 'critical' ELSE 'warning' END,
                  CAST($as_of AS DATE), district,
                  CASE WHEN rule = 'deceased_with_valid_certificate' THEN 'e_certificate' ELSE rule || '@' || owner END,
                  CASE WHEN rule IN ('deceased_with_valid_certificate', 'death_not_deregistered') THEN rule ELSE 'consistency' END,
                  CASE rule
                    WHEN 'deceased_with_valid_certificate' THEN json_object('persons', count(DISTINCT holder), 'certificates', count(*))
                    ELSE json_object('count', count(*), 'rule', rule) END,
                  'department', owner, 'daily'
           FROM (SELECT f.*, CASE WHEN f.rule = 'deceased_with_valid_certificate' THEN c.holder_id END AS holder,
                        CASE WHEN f.rule = 'deceased_with_valid_certificate' THEN 'dsb' ELSE f.owner_department END AS owner,
                        CASE WHEN f.rule <> 'deceased_with_valid_certificate' AND list_contains($districts, f.district_code)
                             THEN f.district_code ELSE $city END AS district
                 FROM quality.findings f LEFT JOIN e_certificate.certificate_state c
                   ON f.subject_kind = 'certificate' AND c.certificate_no = f.subject_id)
           GROUP BY rule, owner, district""",
        {"as_of": as_of, "city": city.code, "districts": city.district_codes},
    )


def _thresholds(con: duckdb.DuckDBPyConnection, since: dt.date) -> None:
    con.execute(
        _INSERT + """
           SELECT 'threshold:' || v.indicator_id,
                  CASE WHEN v.crit THEN 'critical' ELSE 'warning' END,
                  v.date, v.district_code, v.indicator_id,
                  -- A critical alert quotes the critical level it crossed, a warning the warning level.
                  CASE WHEN c.direction = 'higher' THEN 'threshold_below' ELSE 'threshold_above' END
                    || CASE WHEN v.crit THEN '_critical' ELSE '' END,
                  json_object('indicator', v.indicator_id, 'unit', c.unit,
                              'value', round(v.value * CASE WHEN c.unit = '%' THEN 100 ELSE 1 END, 1),
                              'level', round(CASE WHEN v.crit THEN c.critical ELSE c.warn END
                                             * CASE WHEN c.unit = '%' THEN 100 ELSE 1 END, 1)),
                  CASE WHEN o.department IS NOT NULL THEN 'department'
                       WHEN v.district_code = $city THEN 'city' ELSE 'district' END,
                  CASE WHEN o.department IS NOT NULL THEN o.department
                       WHEN v.district_code = $city THEN NULL ELSE v.district_code END, 'recent'
           FROM (SELECT v.*, coalesce((c.direction = 'higher' AND v.value < c.critical) OR (c.direction = 'lower' AND v.value > c.critical),
                                      false) AS crit
                 FROM marts.indicator_values v JOIN marts.indicator_catalog c USING (indicator_id)) v
           JOIN marts.indicator_catalog c USING (indicator_id)
           -- Indicators whose alerts go to their owner: the owning department's steward (the
           -- district governments together have none: their alerts go to the manager).
           LEFT JOIN (SELECT unnest($departments) AS department) o ON c.alerts_to = 'owner' AND o.department = c.owner
           WHERE c.warn IS NOT NULL AND v.value IS NOT NULL AND v.date >= $since
             AND (c.kind = 'count' OR v.denominator >= 30)  -- a ratio over a handful of cases is noise
             AND ((c.direction = 'higher' AND v.value < c.warn) OR (c.direction = 'lower' AND v.value > c.warn))""",
        {"since": since, "city": load_city().code, "departments": list(OWNER_DEPARTMENTS)},
    )


def _anomalies(con: duckdb.DuckDBPyConnection, since: dt.date) -> None:
    """Values far from a robust baseline (median, MAD) of the same kind of day.

    The spread is at least the square root of the median (counts are Poisson-like), a
    tenth of it, or 1, so small district counts do not alarm on ordinary noise.
    """
    days = [r[0] for r in con.execute("SELECT DISTINCT date FROM marts.indicator_values").fetchall()]
    con.execute("CREATE OR REPLACE TEMP TABLE cb_day_kind (date DATE, workday BOOLEAN)")
    con.executemany("INSERT INTO cb_day_kind VALUES (?, ?)", [(d, day_kind(d) == "workday") for d in days])
    con.execute(
        _INSERT + """
            WITH v AS (SELECT v.*, k.workday FROM marts.indicator_values v JOIN cb_day_kind k USING (date)
                       JOIN marts.indicator_catalog c USING (indicator_id) WHERE c.anomaly AND v.value IS NOT NULL),
            scored AS (
                SELECT cur.indicator_id, cur.date, cur.district_code, cur.value,
                       median(b.value) AS med, median(abs(b.value - m.med)) AS mad, count(b.value) AS n
                FROM v cur
                JOIN v b ON b.indicator_id = cur.indicator_id AND b.district_code = cur.district_code
                        AND b.workday = cur.workday AND b.date < cur.date AND b.date >= cur.date - $baseline_days
                JOIN (SELECT cur2.indicator_id, cur2.district_code, cur2.date, median(b2.value) AS med
                      FROM v cur2 JOIN v b2 ON b2.indicator_id = cur2.indicator_id AND b2.district_code = cur2.district_code
                           AND b2.workday = cur2.workday AND b2.date < cur2.date AND b2.date >= cur2.date - $baseline_days
                      WHERE cur2.date >= $since GROUP BY ALL) m
                  ON m.indicator_id = cur.indicator_id AND m.district_code = cur.district_code AND m.date = cur.date
                WHERE cur.date >= $since
                GROUP BY ALL HAVING count(b.value) >= 5
            )
            SELECT 'anomaly:' || s.indicator_id,
                   CASE WHEN abs(s.value - s.med) / greatest(1.4826 * s.mad, sqrt(s.med), 0.1 * s.med, 1) > 2 * $z THEN 'critical' ELSE 'warning' END,
                   s.date, s.district_code, s.indicator_id,
                   'anomaly', json_object('indicator', s.indicator_id, 'unit', c.unit, 'value', round(s.value, 1),
                                          'usual', round(s.med, 1)),
                   CASE WHEN s.district_code = $city THEN 'city' ELSE 'district' END,
                   CASE WHEN s.district_code = $city THEN NULL ELSE s.district_code END, 'recent'
            FROM scored s JOIN marts.indicator_catalog c USING (indicator_id)
            WHERE abs(s.value - s.med) >= $min_delta AND s.med >= $min_median
              AND abs(s.value - s.med) / greatest(1.4826 * s.mad, sqrt(s.med), 0.1 * s.med, 1) > $z""",
        {"since": since, "city": load_city().code, "baseline_days": BASELINE_DAYS, "z": ANOMALY_Z,
         "min_delta": ANOMALY_MIN_DELTA, "min_median": ANOMALY_MIN_MEDIAN},
    )


def _render_messages(con: duckdb.DuckDBPyConnection) -> None:
    """Fill ``message`` with the English rendering of each condition's template (the contract's
    column, for tools that read the warehouse); people read the template in their language."""
    pairs = con.execute("SELECT DISTINCT message_key, CAST(message_params AS VARCHAR) FROM cb_conditions").fetchall()
    con.execute("CREATE OR REPLACE TEMP TABLE cb_messages (message_key VARCHAR, params VARCHAR, message VARCHAR)")
    if not pairs:  # a day with nothing to alert on
        return
    con.executemany("INSERT INTO cb_messages VALUES (?, ?, ?)", [(k, p, render(k, p, "en")) for k, p in pairs])
    con.execute("""UPDATE cb_conditions c SET message = m.message FROM cb_messages m
                   WHERE m.message_key = c.message_key AND m.params = CAST(c.message_params AS VARCHAR)""")


BREACH_DAYS = 7  # forecast_breach looks this many days ahead
BREACH_MIN_DENOMINATOR = 30  # a ratio forecast from days of fewer cases than this (median) is noise


def _forecast_breaches(con: duckdb.DuckDBPyConnection) -> None:
    """``forecast_breach``: the latest forecast says an indicator crosses its threshold within a week.

    Warning when the 80% bound on the bad side (the lower for 'higher is better', the upper
    otherwise) crosses ``warn``; critical when the 95% bound crosses ``critical``. One
    condition per indicator and district, dated by the first predicted breach (the alert's
    key leaves the date out, so a breach predicted a day later or earlier stays one row).
    Ratios count only where the median day of the last four weeks had 30 or more cases.
    """
    pct = "CASE WHEN b.unit = '%' THEN 100 ELSE 1 END"
    con.execute(
        _INSERT + f"""
            WITH f AS (SELECT * FROM marts.forecasts WHERE issued_on = (SELECT max(issued_on) FROM marts.forecasts)
                                                       AND date <= issued_on + $breach_days),
            support AS (SELECT v.indicator_id, v.district_code, median(v.denominator) AS cases
                        FROM marts.indicator_values v JOIN (SELECT DISTINCT issued_on FROM f) i ON v.date > i.issued_on - 28 AND v.date <= i.issued_on
                        GROUP BY ALL),
            judged AS (
                SELECT f.*, c.name_zh, c.name_en, c.unit, c.direction, c.warn, c.critical, c.owner, c.alerts_to,
                       coalesce(CASE WHEN c.direction = 'higher' THEN f.lo95 < c.critical ELSE f.hi95 > c.critical END, false) AS crit,
                       coalesce(CASE WHEN c.direction = 'higher' THEN f.lo80 < c.warn ELSE f.hi80 > c.warn END, false) AS warn_hit
                FROM f JOIN marts.indicator_catalog c USING (indicator_id)
                LEFT JOIN support s USING (indicator_id, district_code)
                WHERE (c.warn IS NOT NULL OR c.critical IS NOT NULL)
                  AND (c.kind = 'count' OR s.cases >= $min_cases)),
            first AS (
                SELECT indicator_id, district_code, bool_or(crit) AS crit,
                       min(date) FILTER (WHERE crit OR warn_hit) AS day,
                       arg_min(CASE WHEN direction = 'higher' THEN lo80 ELSE hi80 END, date) FILTER (WHERE crit OR warn_hit) AS bound80,
                       arg_min(CASE WHEN direction = 'higher' THEN lo95 ELSE hi95 END, date) FILTER (WHERE crit) AS bound95,
                       any_value(name_zh) AS name_zh, any_value(name_en) AS name_en, any_value(unit) AS unit,
                       any_value(direction) AS direction, any_value(warn) AS warn, any_value(critical) AS critical,
                       any_value(owner) AS owner, any_value(alerts_to) AS alerts_to
                FROM judged GROUP BY indicator_id, district_code HAVING bool_or(crit OR warn_hit))
            SELECT 'forecast_breach', CASE WHEN b.crit THEN 'critical' ELSE 'warning' END, b.day, b.district_code, b.indicator_id,
                   'forecast_' || CASE WHEN b.direction = 'higher' THEN 'below' ELSE 'above' END
                     || CASE WHEN b.crit THEN '_critical' ELSE '' END,
                   json_object('indicator', b.indicator_id, 'unit', b.unit, 'day', strftime(b.day, '%Y-%m-%d'),
                               'level', round(CASE WHEN b.crit THEN b.critical ELSE b.warn END * {pct}, 1),
                               'bound', round(CASE WHEN b.crit THEN b.bound95 ELSE b.bound80 END * {pct}, 1)),
                   CASE WHEN o.department IS NOT NULL THEN 'department'
                        WHEN b.district_code = $city THEN 'city' ELSE 'district' END,
                   CASE WHEN o.department IS NOT NULL THEN o.department
                        WHEN b.district_code = $city THEN NULL ELSE b.district_code END, 'forecast'
            FROM first b
            LEFT JOIN (SELECT unnest($departments) AS department) o ON b.alerts_to = 'owner' AND o.department = b.owner""",
        {"city": load_city().code, "departments": list(OWNER_DEPARTMENTS), "breach_days": BREACH_DAYS,
         "min_cases": BREACH_MIN_DENOMINATOR},
    )


def evaluate(con: duckdb.DuckDBPyConnection, as_of: dt.datetime) -> dict[str, int]:
    """Compute today's conditions and merge them into ``marts.alerts``; returns counts by status."""
    con.execute(_CONDITIONS)
    span = con.execute("SELECT min(business_date), max(business_date) FROM ingest.live_deliveries").fetchone()
    if span[0] is not None:
        first, last = span
        since = max(first, last - dt.timedelta(RECENT_DAYS - 1))
        _feed_missing(con, as_of, first)
        _thresholds(con, since)
        _anomalies(con, since)
        _forecast_breaches(con)
    else:
        since = as_of.date()
    _consistency(con, as_of)
    _render_messages(con)
    now = as_of
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE cb_keyed AS
               -- A forecast breach is one alert while the prediction holds: its date (the first
               -- predicted day) may move from one refresh to the next, so it is not in the key.
               SELECT md5(rule_id || '|' || CASE WHEN rule_id = 'forecast_breach' THEN '' ELSE CAST(date AS VARCHAR) END
                          || '|' || district_code || '|' || subject)[:16] AS alert_id, *
               FROM cb_conditions"""
        )
        # Conditions that still hold: refresh the text, reopen if it had been resolved.
        con.execute(
            """UPDATE marts.alerts a SET severity = k.severity, message = k.message, message_key = k.message_key,
                      message_params = k.message_params, date = k.date, last_seen = $now,
                      status = CASE WHEN a.status = 'resolved' THEN 'open' ELSE a.status END,
                      resolved_at = CASE WHEN a.status = 'resolved' THEN NULL ELSE a.resolved_at END
               FROM cb_keyed k WHERE k.alert_id = a.alert_id""",
            {"now": now},
        )
        con.execute(
            """INSERT INTO marts.alerts (alert_id, rule_id, severity, date, district_code, subject, status, message,
                                         message_key, message_params, owner_kind, owner_scope, first_seen, last_seen)
               SELECT alert_id, rule_id, severity, date, district_code, subject, 'open', message, message_key, message_params,
                      owner_kind, owner_scope, $now, $now
               FROM cb_keyed WHERE alert_id NOT IN (SELECT alert_id FROM marts.alerts)""",
            {"now": now},
        )
        # Conditions that cleared, among those this run judged: feeds (every day), recent
        # thresholds/anomalies (the latest week), daily summaries (superseded by today's).
        con.execute(
            """UPDATE marts.alerts SET status = 'resolved', resolved_at = $now
               WHERE status <> 'resolved' AND alert_id NOT IN (SELECT alert_id FROM cb_keyed)
                 AND (rule_id = 'feed_missing'
                      OR ((rule_id LIKE 'threshold:%' OR rule_id LIKE 'anomaly:%') AND date >= $since)
                      OR rule_id = 'deceased_with_valid_certificate' OR rule_id LIKE 'consistency:%'
                      OR rule_id = 'forecast_breach')""",
            {"now": now, "since": since},
        )
        # 'acknowledged' was a status before the loop moved handling to the operational store
        # (where old acknowledgements now are steps): such an alert's condition is open.
        con.execute("UPDATE marts.alerts SET status = 'open' WHERE status = 'acknowledged'")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return dict(con.execute("SELECT status, count(*) FROM marts.alerts GROUP BY status").fetchall())
