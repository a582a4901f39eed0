-- The tickets the service indicators count, each in the district of its creation (NULL for a
-- ticket never created: it counts city-wide only), narrowed to one handler ('local': the
-- district governments) and one category; '*' keeps all.
CREATE OR REPLACE TEMP MACRO cb_svc_tickets(for_handler, for_category) AS TABLE
SELECT ticket_no, CASE WHEN created_at IS NOT NULL THEN district_code END AS district_code, handler, category, created_at
FROM service.tickets
WHERE (for_handler = '*' OR handler = for_handler OR (for_handler = 'local' AND handler GLOB '[0-9]*'))
  AND (for_category = '*' OR category = for_category)
