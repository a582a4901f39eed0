-- Certificates valid at the end of D: issued or renewed, not revoked or cancelled,
-- valid_from <= D and valid_to empty or >= D; in the holder's library district.
-- A version counts from its own date and valid_from, whichever is later, until the next
-- version or the day after valid_to, whichever is sooner (cb_spans_open).
WITH spans AS (
    SELECT c.district_code, greatest(h.event_valid_from, h.valid_from) AS s,
           least(h.event_valid_to, h.valid_to + 1) AS e
    FROM e_certificate.certificate_history h LEFT JOIN cb_cert_district c USING (certificate_no)
    WHERE h.lifecycle = 'valid' AND h.event_valid_from IS NOT NULL AND h.valid_from IS NOT NULL
)
SELECT * FROM cb_spans_open('spans')
