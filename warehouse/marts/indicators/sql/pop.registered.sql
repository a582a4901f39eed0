-- Persons whose status is 'registered' at the end of D, in the district of that version.
SELECT day, district_code, residents AS num, NULL AS den FROM cb_residents
