-- Validation macros shared by every feed (CONTRACT §2 "Code lists and formats").
-- Pure SQL so validation stays set-based inside DuckDB.

-- A delivered value: surrounding spaces dropped, empty means absent. Most values have no
-- surrounding spaces, and checking for them is far cheaper than trim's copy.
CREATE OR REPLACE TEMP MACRO cb_text(s) AS (
    NULLIF(CASE WHEN s LIKE ' %' OR s LIKE '% ' THEN trim(s) ELSE s END, '')
);

-- GB 11643-1999 resident identity number: 17 digits, an ISO 7064 MOD 11-2 check
-- character, and a real calendar date in digits 7-14. Expects upper-cased input.
-- Every rule is integer arithmetic on n = the first 17 digits as one integer, NULL unless
-- the value has the form of 17 digits and a check character: validation computes n once
-- per row as a column and passes it in (macro arguments are expanded, not evaluated once,
-- so an expression here would be recomputed at every use). A value ending in a digit is
-- cast whole, since cutting out its first 17 characters copies the string; and a regular
-- expression tests the form in over a third fewer instructions than the equivalent GLOB.
CREATE OR REPLACE TEMP MACRO cb_id_digits(s) AS (
    CASE WHEN regexp_full_match(s, '[0-9]{18}') THEN s::UBIGINT // 10
         WHEN regexp_full_match(s, '[0-9]{17}X') THEN s[1:17]::UBIGINT END
);
CREATE OR REPLACE TEMP MACRO cb_id_sum(n) AS ((
          (n // 10000000000000000 % 10) * 7 + (n // 1000000000000000 % 10) * 9 + (n // 100000000000000 % 10) * 10 + (n // 10000000000000 % 10) * 5
        + (n // 1000000000000 % 10) * 8 + (n // 100000000000 % 10) * 4 + (n // 10000000000 % 10) * 2 + (n // 1000000000 % 10) * 1
        + (n // 100000000 % 10) * 6 + (n // 10000000 % 10) * 3 + (n // 1000000 % 10) * 7 + (n // 100000 % 10) * 9
        + (n // 10000 % 10) * 10 + (n // 1000 % 10) * 5 + (n // 100 % 10) * 8 + (n // 10 % 10) * 4
        + (n // 1 % 10) * 2) % 11);
-- Digits 7-14 (the birth date) as the integer yyyymmdd.
CREATE OR REPLACE TEMP MACRO cb_id_ymd(n) AS (n // 1000 % 100000000);
-- yyyymmdd is a real calendar date, year 0001 or later.
CREATE OR REPLACE TEMP MACRO cb_ymd_ok(x) AS (
    x // 10000 >= 1 AND x // 100 % 100 BETWEEN 1 AND 12
    AND x % 100 BETWEEN 1 AND CASE x // 100 % 100
        WHEN 2 THEN (CASE WHEN x // 10000 % 4 = 0 AND (x // 10000 % 100 <> 0 OR x // 10000 % 400 = 0) THEN 29 ELSE 28 END)
        WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30 ELSE 31 END
);
CREATE OR REPLACE TEMP MACRO cb_id_number_ok_n(s, n) AS (
    n IS NOT NULL
    AND substr('10X98765432', 1 + cb_id_sum(n)::BIGINT, 1) = s[18]
    AND cb_ymd_ok(cb_id_ymd(n))
);
CREATE OR REPLACE TEMP MACRO cb_id_number_ok(s) AS (cb_id_number_ok_n(s, cb_id_digits(s)));

-- A date as the integer yyyymmdd, to compare with the birth date of an identity number.
CREATE OR REPLACE TEMP MACRO cb_date_ymd(d) AS (year(d) * 10000 + month(d) * 100 + day(d));

-- Gender implied by a valid identity number's digits n: odd 17th digit = '1' male, even = '2' female.
CREATE OR REPLACE TEMP MACRO cb_id_gender(n) AS (CASE WHEN n % 2 = 1 THEN '1' ELSE '2' END);

-- GB 32100-2015 unified social credit code: 18 characters of the code alphabet and a
-- MOD 31 check character. Expects upper-cased input.
CREATE OR REPLACE TEMP MACRO cb_uscc_value(c) AS (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', c) - 1);
CREATE OR REPLACE TEMP MACRO cb_uscc_ok(s) AS (
    coalesce(regexp_full_match(s, '[0-9A-HJ-NPQRTUWXY]{18}'), false)
    AND '0123456789ABCDEFGHJKLMNPQRTUWXY'[1 + (31 - ((
          cb_uscc_value(s[1])*1   + cb_uscc_value(s[2])*3   + cb_uscc_value(s[3])*9   + cb_uscc_value(s[4])*27
        + cb_uscc_value(s[5])*19  + cb_uscc_value(s[6])*26  + cb_uscc_value(s[7])*16  + cb_uscc_value(s[8])*17
        + cb_uscc_value(s[9])*20  + cb_uscc_value(s[10])*29 + cb_uscc_value(s[11])*25 + cb_uscc_value(s[12])*13
        + cb_uscc_value(s[13])*8  + cb_uscc_value(s[14])*24 + cb_uscc_value(s[15])*10 + cb_uscc_value(s[16])*30
        + cb_uscc_value(s[17])*28) % 31)) % 31] = s[18]
);

-- Dates: YYYY-MM-DD or YYYYMMDD; NULL when unreadable. The patterns make DuckDB's fast
-- (and otherwise lenient) date cast exact.
CREATE OR REPLACE TEMP MACRO cb_date(s) AS (
    CASE
        WHEN s GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' THEN try_cast(s AS DATE)
        WHEN s GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]' THEN try_strptime(s, '%Y%m%d')::DATE
    END
);

-- Timestamps: YYYY-MM-DD HH:MM:SS or ISO 8601 local time (T separator, optional fraction).
CREATE OR REPLACE TEMP MACRO cb_timestamp(s) AS (
    CASE WHEN regexp_full_match(s, '[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?')
         THEN try_cast(replace(s, 'T', ' ') AS TIMESTAMP) END
);

-- Non-negative decimal number (registered capital, 万元).
CREATE OR REPLACE TEMP MACRO cb_number(s) AS (
    CASE WHEN regexp_full_match(s, '[0-9]+(\.[0-9]+)?') THEN try_cast(s AS DECIMAL(20, 4)) END
);

-- A citizen's rating: exactly one of the digits 1 to 5.
CREATE OR REPLACE TEMP MACRO cb_rating(s) AS (
    CASE WHEN s IN ('1', '2', '3', '4', '5') THEN CAST(s AS INTEGER) END
);
