-- Certificates valid at the end of D whose validity ends within the next 30 days.
SELECT d.day, c.district_code, count(*) AS num, NULL AS den
FROM cb_days d JOIN e_certificate.certificate_history h
  ON h.event_valid_from <= d.day AND (h.event_valid_to IS NULL OR h.event_valid_to > d.day)
LEFT JOIN cb_cert_district c USING (certificate_no)
WHERE h.lifecycle = 'valid' AND h.valid_from <= d.day AND h.valid_to >= d.day AND h.valid_to <= d.day + 30
GROUP BY ALL
