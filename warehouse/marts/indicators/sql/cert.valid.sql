-- Certificates valid at the end of D: issued or renewed, not revoked or cancelled,
-- valid_from <= D and valid_to empty or >= D; in the holder's library district.
SELECT d.day, c.district_code, count(*) AS num, NULL AS den
FROM cb_days d JOIN e_certificate.certificate_history h
  ON h.event_valid_from <= d.day AND (h.event_valid_to IS NULL OR h.event_valid_to > d.day)
LEFT JOIN cb_cert_district c USING (certificate_no)
WHERE h.lifecycle = 'valid' AND h.valid_from <= d.day AND (h.valid_to IS NULL OR h.valid_to >= d.day)
GROUP BY ALL
