-- The ticket steps the service indicators count, each with its ticket's district (that of its
-- creation; NULL for a ticket never created: it counts city-wide only) and category, and
-- what held once the step was taken: the handler and due time of the latest dispatch, and
-- whether the ticket was open, until the next step. A step counts under the handler of its
-- time, not the ticket's latest one, so a step dated D changes no indicator before D and
-- the daily refresh recomputes only the days its deliveries reach. Steps whose span ended
-- before the first day computed are left out.
CREATE OR REPLACE TEMP TABLE cb_svc_steps AS
WITH s AS (
    SELECT ticket_no, version, event_type, event_time, satisfaction,
           lead(event_time) OVER w AS until,
           last_value(handler IGNORE NULLS) OVER w AS handler,
           last_value(due_at IGNORE NULLS) OVER w AS due,
           last_value(CASE event_type WHEN 'close' THEN 'closed' WHEN 'create' THEN 'open' WHEN 'reopen' THEN 'open' END
                      IGNORE NULLS) OVER w AS state
    FROM service.ticket_history
    WINDOW w AS (PARTITION BY ticket_no ORDER BY version)
)
SELECT s.*, CASE WHEN t.created_at IS NOT NULL THEN t.district_code END AS district_code, t.category, t.created_at
FROM s JOIN service.tickets t USING (ticket_no)
WHERE s.until IS NULL OR s.until >= (SELECT min(day) FROM cb_days);

-- Those of one handler ('local': the district governments) and one category; '*' keeps all.
CREATE OR REPLACE TEMP MACRO cb_svc(for_handler, for_category) AS TABLE
SELECT * FROM cb_svc_steps
WHERE (for_handler = '*' OR handler = for_handler OR (for_handler = 'local' AND handler GLOB '[0-9]*'))
  AND (for_category = '*' OR category = for_category);
