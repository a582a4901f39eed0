-- Close steps dated D (a ticket closed, reopened and closed again counts twice), in the ticket's district.
SELECT CAST(h.event_time AS DATE) AS day, t.district_code, count(*) AS num, NULL AS den
FROM service.ticket_history h JOIN cb_svc_tickets($handler, $category) t USING (ticket_no)
WHERE h.event_type = 'close' AND CAST(h.event_time AS DATE) IN (SELECT day FROM cb_days)
GROUP BY ALL
