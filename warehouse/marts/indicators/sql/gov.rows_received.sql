-- Rows read from live deliveries of business date D (city-wide).
SELECT business_date AS day, $city AS district_code, sum(rows_read) AS num, NULL AS den
FROM ingest.live_deliveries WHERE business_date IN (SELECT day FROM cb_days) GROUP BY ALL
