-- Marriage registrations dated D.
SELECT registration_date AS day, district_code, count(*) AS num, NULL AS den
FROM population.live_marriage_registrations
WHERE registration_type = 'marriage' AND registration_date IN (SELECT day FROM cb_days) GROUP BY ALL
