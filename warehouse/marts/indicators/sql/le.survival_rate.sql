-- Entities active at the end of D ÷ entities ever registered by D.
SELECT d.day, h.district_code, count(*) FILTER (WHERE h.status = 'active') AS num, count(*) AS den
FROM cb_days d JOIN legal_person.entity_history h
  ON h.valid_from <= d.day AND (h.valid_to IS NULL OR h.valid_to > d.day)
GROUP BY ALL
