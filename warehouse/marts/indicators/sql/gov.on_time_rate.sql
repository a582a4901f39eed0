-- Feeds delivered (accepted or partial) by their deadline ÷ feeds due, business date D.
WITH due AS (SELECT * FROM cb_feed_due)
SELECT day, $city AS district_code, count(*) FILTER (WHERE on_time) AS num, count(*) AS den FROM due GROUP BY ALL
