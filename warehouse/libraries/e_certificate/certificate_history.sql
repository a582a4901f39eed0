-- e_certificate.certificate_history: every version of every e-certificate (the data
-- resources bureau is authoritative). issue/renew make it valid; revoke and cancel end it.
INSERT INTO e_certificate.certificate_history
SELECT certificate_no,
       row_number() OVER w,
       event_date,
       lead(event_date) OVER w,
       certificate_type, holder_type, holder_id, issuer, valid_from, valid_to,
       CASE event_type WHEN 'revoke' THEN 'revoked' WHEN 'cancel' THEN 'cancelled' ELSE 'valid' END,
       event_type, _delivery_id, _line
FROM e_certificate.live_certificate_events
WHERE __KEYS__(certificate_no)
WINDOW w AS (PARTITION BY certificate_no ORDER BY event_date, _delivery_id, _line);
