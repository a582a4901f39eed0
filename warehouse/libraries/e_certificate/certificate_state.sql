-- e_certificate.certificate_state: each certificate's latest version and lifecycle; the
-- view e_certificate.certificates adds 'expired' against the refresh's clock.
INSERT INTO e_certificate.certificate_state
SELECT certificate_no, certificate_type, holder_type, holder_id, issuer, valid_from, valid_to, lifecycle,
       min(event_valid_from) FILTER (WHERE source_event = 'issue') OVER (PARTITION BY certificate_no),
       event_valid_from, source_delivery_id, source_line
FROM e_certificate.certificate_history
WHERE __KEYS__(certificate_no)
QUALIFY row_number() OVER (PARTITION BY certificate_no ORDER BY version DESC) = 1;
