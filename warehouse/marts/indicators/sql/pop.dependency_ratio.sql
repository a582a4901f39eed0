-- (aged 0-14 + aged 65+) ÷ aged 15-64, registered residents at the end of D.
SELECT d.day, h.district_code,
       count(*) FILTER (WHERE h.birth_date > d.day - INTERVAL 15 YEAR OR h.birth_date <= d.day - INTERVAL 65 YEAR) AS num,
       count(*) FILTER (WHERE h.birth_date <= d.day - INTERVAL 15 YEAR AND h.birth_date > d.day - INTERVAL 65 YEAR) AS den
FROM cb_days d JOIN population.person_history h
  ON h.valid_from <= d.day AND (h.valid_to IS NULL OR h.valid_to > d.day)
WHERE h.status = 'registered'
GROUP BY ALL
