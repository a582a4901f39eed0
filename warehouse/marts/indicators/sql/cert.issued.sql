-- issue events dated D, in the holder's library district.
SELECT e.event_date AS day, c.district_code, count(*) AS num, NULL AS den
FROM e_certificate.live_certificate_events e LEFT JOIN cb_cert_district c USING (certificate_no)
WHERE e.event_type = 'issue' AND e.event_date IN (SELECT day FROM cb_days)
GROUP BY ALL
