-- Active entities at the end of D holding a valid business licence ÷ active entities.
WITH active AS (
    SELECT d.day, h.uscc, h.district_code FROM cb_days d JOIN legal_person.entity_history h
      ON h.valid_from <= d.day AND (h.valid_to IS NULL OR h.valid_to > d.day)
    WHERE h.status = 'active'
), licensed AS (
    SELECT DISTINCT d.day, h.holder_id AS uscc FROM cb_days d JOIN e_certificate.certificate_history h
      ON h.event_valid_from <= d.day AND (h.event_valid_to IS NULL OR h.event_valid_to > d.day)
    WHERE h.lifecycle = 'valid' AND h.certificate_type = 'business_licence'
      AND h.valid_from <= d.day AND (h.valid_to IS NULL OR h.valid_to >= d.day)
)
SELECT a.day, a.district_code, count(l.uscc) AS num, count(*) AS den
FROM active a LEFT JOIN licensed l USING (day, uscc)
GROUP BY ALL
