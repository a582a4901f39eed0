-- Mean satisfaction (1-5) of the rating steps dated D; no value on a day without one.
SELECT CAST(h.event_time AS DATE) AS day, t.district_code, sum(h.satisfaction) AS num, count(*) AS den
FROM service.ticket_history h JOIN cb_svc_tickets($handler, $category) t USING (ticket_no)
WHERE h.event_type = 'rate' AND CAST(h.event_time AS DATE) IN (SELECT day FROM cb_days)
GROUP BY ALL
