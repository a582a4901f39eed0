-- Entities 'active' at the end of D, in the district of that version.
SELECT d.day, h.district_code, count(*) AS num, NULL AS den
FROM cb_days d JOIN legal_person.entity_history h
  ON h.valid_from <= d.day AND (h.valid_to IS NULL OR h.valid_to > d.day)
WHERE h.status = 'active'
GROUP BY ALL
