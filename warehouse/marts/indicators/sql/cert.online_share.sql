-- Share of D's certificate uses made online or on mobile.
SELECT CAST(u.used_at AS DATE) AS day, c.district_code,
       count(*) FILTER (WHERE u.channel IN ('online', 'mobile')) AS num, count(*) AS den
FROM staging.certificate_usage u JOIN ingest.live_deliveries d ON d.delivery_id = u._delivery_id
LEFT JOIN cb_cert_district c USING (certificate_no)
WHERE CAST(u.used_at AS DATE) IN (SELECT day FROM cb_days)
GROUP BY ALL
