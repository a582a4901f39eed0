-- Share of D's certificate uses made online or on mobile.
SELECT CAST(u.used_at AS DATE) AS day, c.district_code,
       count(*) FILTER (WHERE u.channel IN ('online', 'mobile')) AS num, count(*) AS den
FROM e_certificate.live_certificate_usage u
LEFT JOIN cb_cert_district c USING (certificate_no)
WHERE CAST(u.used_at AS DATE) IN (SELECT day FROM cb_days)
GROUP BY ALL
