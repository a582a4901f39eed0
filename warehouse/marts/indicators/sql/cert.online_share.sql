-- Share of D's certificate uses made online or on mobile.
SELECT day, district_code, online_uses AS num, uses AS den FROM cb_cert_uses
