-- Share of registered residents aged 65 or more at the end of D.
SELECT d.day, h.district_code,
       count(*) FILTER (WHERE h.birth_date <= d.day - INTERVAL 65 YEAR) AS num, count(*) AS den
FROM cb_days d JOIN population.person_history h
  ON h.valid_from <= d.day AND (h.valid_to IS NULL OR h.valid_to > d.day)
WHERE h.status = 'registered'
GROUP BY ALL
