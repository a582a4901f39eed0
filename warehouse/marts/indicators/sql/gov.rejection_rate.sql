-- Rows rejected ÷ rows read for business date D (city-wide), over every delivery that was
-- not superseded (a delivery rejected whole counts too: its rows were not taken).
SELECT business_date AS day, $city AS district_code, sum(rows_rejected) AS num, sum(rows_read) AS den
FROM ingest.deliveries WHERE status <> 'superseded' AND reason IS DISTINCT FROM 'unknown_feed'
  AND business_date IN (SELECT day FROM cb_days) GROUP BY ALL
