-- Uses whose used_at falls on D, in the holder's library district.
SELECT day, district_code, uses AS num, NULL AS den FROM cb_cert_uses
