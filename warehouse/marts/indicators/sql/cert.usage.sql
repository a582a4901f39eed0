-- Uses whose used_at falls on D, in the holder's library district.
SELECT CAST(u.used_at AS DATE) AS day, c.district_code, count(*) AS num, NULL AS den
FROM e_certificate.live_certificate_usage u
LEFT JOIN cb_cert_district c USING (certificate_no)
WHERE CAST(u.used_at AS DATE) IN (SELECT day FROM cb_days)
GROUP BY ALL
