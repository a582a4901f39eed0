-- Registered residents at the end of each day, by district: what pop.registered reports and
-- what the per-resident rates divide by, computed once per refresh.
CREATE OR REPLACE TEMP TABLE cb_residents AS
SELECT d.day, h.district_code, count(*) AS residents
FROM cb_days d JOIN population.person_history h
  ON h.valid_from <= d.day AND (h.valid_to IS NULL OR h.valid_to > d.day)
WHERE h.status = 'registered'
GROUP BY ALL
