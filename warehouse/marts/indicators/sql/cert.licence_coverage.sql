-- Active entities at the end of D holding a valid business licence ÷ active entities.
-- Counted from spans (cb_spans_open): each active version of an entity, and the same cut to
-- the days one of its business licences is valid (an entity's licences merged first, so two
-- valid on one day count it once). A licence version is valid as in cert.valid.
WITH active AS (
    SELECT uscc, district_code, valid_from AS s, valid_to AS e FROM legal_person.entity_history
    WHERE status = 'active' AND valid_from IS NOT NULL
),
licence AS (
    SELECT holder_id AS uscc, greatest(event_valid_from, valid_from) AS s,
           coalesce(least(event_valid_to, valid_to + 1), DATE '9999-12-31') AS e
    FROM e_certificate.certificate_history
    WHERE lifecycle = 'valid' AND certificate_type = 'business_licence'
      AND event_valid_from IS NOT NULL AND valid_from IS NOT NULL
),
reaching AS (  -- how far the entity's earlier licences already reach
    SELECT uscc, s, e, max(e) OVER (PARTITION BY uscc ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM licence WHERE s < e
),
islands AS (  -- a new island where a licence starts after every earlier one has ended
    SELECT uscc, min(s) AS s, max(e) AS e
    FROM (SELECT uscc, s, e, sum(CASE WHEN reach IS NULL OR s > reach THEN 1 ELSE 0 END)
                 OVER (PARTITION BY uscc ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS island FROM reaching)
    GROUP BY uscc, island
),
licensed AS (
    SELECT a.district_code, greatest(a.s, i.s) AS s, least(coalesce(a.e, DATE '9999-12-31'), i.e) AS e
    FROM active a JOIN islands i ON i.uscc = a.uscc AND i.s < coalesce(a.e, DATE '9999-12-31') AND a.s < i.e
)
SELECT a.day, a.district_code, coalesce(l.num, 0) AS num, a.num AS den
FROM cb_spans_open('active') a LEFT JOIN cb_spans_open('licensed') l USING (day, district_code)
