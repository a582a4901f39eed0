-- Tickets created on D (the date of their creation step), in their district.
SELECT CAST(created_at AS DATE) AS day, district_code, count(*) AS num, NULL AS den
FROM service.tickets
WHERE CAST(created_at AS DATE) IN (SELECT day FROM cb_days) AND ($category = '*' OR category = $category)
GROUP BY ALL
