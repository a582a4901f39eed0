-- (not an indicator) Certificate uses per day and holder district (cb_cert_district, made
-- by the file before this one), online or on mobile apart: what cert.usage and
-- cert.online_share count, so the day's ~17M uses are read and joined once; from the first
-- day those flows are recomputed (cb_flow_first: the days the uses' own deliveries touch,
-- not those a back-dated birth or enrolment reopens). The range on used_at (not a cast per
-- row) lets DuckDB skip the row groups of other days, so the cost follows the days of uses
-- recomputed, not the history kept.
CREATE OR REPLACE TEMP TABLE cb_cert_uses AS
SELECT CAST(u.used_at AS DATE) AS day, c.district_code, count(*) AS uses,
       count(*) FILTER (WHERE u.channel IN ('online', 'mobile')) AS online_uses
FROM e_certificate.live_certificate_usage u
LEFT JOIN cb_cert_district c USING (certificate_no)
WHERE u.used_at >= (SELECT first_day FROM cb_flow_first WHERE feed = 'dsb/certificate_usage')
  AND u.used_at < (SELECT max(day) FROM cb_days) + 1
GROUP BY ALL;
