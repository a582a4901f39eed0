"""Vectorised, always-valid identity numbers (GB 11643) and credit codes (GB 32100).

The generator's own implementation; tests check its output against python-stdnum.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

from citybrain.synth.text import iso_dates

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_CHARS = np.array(list(USCC_ALPHABET))
_USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
_ID_CHECK_B = np.frombuffer(b"10X98765432", dtype=np.uint8)
_USCC_CHARS_B = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
_USCC_INDEX = np.full(256, 255, dtype=np.uint8)  # byte -> its place in the alphabet (255: not in it)
_USCC_INDEX[_USCC_CHARS_B] = np.arange(len(USCC_ALPHABET))
EPOCH = dt.date(1970, 1, 1)


def _load_places() -> list[tuple[str, int, int]]:
    with (Path(__file__).parent / "place_codes.csv").open(encoding="utf-8") as fh:
        return [(r["code"], int(r["first_year"] or 0), int(r["last_year"] or 9999)) for r in csv.DictReader(fh)]


PLACES = _load_places()


def place_codes_for(years: np.ndarray, rng: np.random.Generator, prefer: np.ndarray | None = None, *,
                    as_bytes: bool = False) -> np.ndarray:
    """A place-of-registration code valid in each birth year (``prefer`` wins where valid).

    Works in chunks: the choice matrix is rows x codes, too big to build at once for a
    12-million-person city (small chunks stay in the processor's cache; the random keys are
    the same whatever the chunk size). ``as_bytes`` returns ASCII byte strings (``S6``).
    """
    codes = np.array([p[0] for p in PLACES])
    first = np.array([p[1] for p in PLACES])
    last = np.array([p[2] for p in PLACES])
    years = np.asarray(years)
    out = np.empty(len(years), dtype=np.int64)  # index into codes
    if len(years):
        # Which codes are valid in each year, one row per year from the earliest to the latest.
        y0 = int(years.min())
        span = np.arange(y0, int(years.max()) + 1)
        valid_in = (span[:, None] >= first[None, :]) & (span[:, None] <= last[None, :])
        order = np.argsort(codes)
        pref_col = None
        if prefer is not None:
            prefer = np.asarray(prefer).astype("<U6")
            pos = np.minimum(np.searchsorted(codes[order], prefer), len(codes) - 1)
            pref_col = np.where(codes[order][pos] == prefer, order[pos], -1)  # the preferred code's column, -1 if none
    step = 32_768
    keys = np.empty((step, len(codes)))
    for start in range(0, len(years), step):
        y = years[start : start + step]
        valid = valid_in[y - y0]
        # Pick uniformly among valid codes via random keys masked to the valid set.
        k = keys[: len(y)]
        rng.random(out=k)
        np.putmask(k, ~valid, -1.0)
        chunk = k.argmax(axis=1)
        if pref_col is not None:
            col = pref_col[start : start + step]
            ok = (col >= 0) & valid[np.arange(len(y)), np.maximum(col, 0)]
            chunk = np.where(ok, col, chunk)
        out[start : start + step] = chunk
    return codes.astype("S6")[out] if as_bytes else codes[out]


def id_numbers(places: np.ndarray, birth_days: np.ndarray, genders: np.ndarray, rng: np.random.Generator, *,
               as_bytes: bool = False) -> np.ndarray:
    """Identity numbers for birth dates (days since 1970-01-01) and genders ('1'/'2').

    The random draws happen once for all rows. The digits are built as a byte matrix (place,
    date, sequence, gender digit, check character). ``as_bytes`` returns ASCII byte strings.
    """
    n = len(places)
    if n == 0:
        return np.array([], dtype="S18" if as_bytes else "<U18")
    seq = rng.integers(0, 100, n)
    parity = rng.integers(0, 5, n) * 2  # even digit 0..8
    g = np.where(np.asarray(genders) == "1", parity + 1, parity)
    dates = iso_dates(np.asarray(birth_days, dtype=np.int64))
    if dates.dtype.itemsize != 10:
        raise ValueError("birth dates must lie in the years 1000 to 9999")
    m = np.empty((n, 18), dtype=np.uint8)
    m[:, :6] = np.ascontiguousarray(np.asarray(places).astype("S6")).view(np.uint8).reshape(n, 6)
    d = np.ascontiguousarray(dates).view(np.uint8).reshape(n, 10)
    m[:, 6:10], m[:, 10:12], m[:, 12:14] = d[:, 0:4], d[:, 5:7], d[:, 8:10]
    m[:, 14] = seq // 10 + 48
    m[:, 15] = seq % 10 + 48
    m[:, 16] = g + 48
    total = np.zeros(n, dtype=np.int16)  # weighted digit sum, column by column (no n x 17 temporary)
    for i, w in enumerate(_ID_WEIGHTS):
        total += (m[:, i] - 48).astype(np.int16) * np.int16(w)
    m[:, 17] = _ID_CHECK_B[total % 11]
    out = m.view("S18").ravel()
    return out if as_bytes else out.astype("<U18")


def id_check_char(body17: str) -> str:
    """Check character of a 17-digit identity-number body."""
    return str(_ID_CHECK[sum(int(c) * w for c, w in zip(body17, _ID_WEIGHTS)) % 11])


def usccs(dept_type: np.ndarray, district_codes: np.ndarray, rng: np.random.Generator, *, as_bytes: bool = False) -> np.ndarray:
    """Credit codes: registration authority + type (e.g. '91'), division code, 9-character body.
    ``as_bytes`` returns ASCII byte strings."""
    n = len(dept_type)
    if n == 0:
        return np.array([], dtype="S18" if as_bytes else "<U18")
    body_idx = rng.integers(0, 31, (n, 9))
    # Organisation codes are mostly digits; letters appear in newer 'MA...' style codes.
    body_idx[:, :2] = np.where(rng.random((n, 1)) < 0.6, [[21, 10]], rng.integers(0, 10, (n, 2)))  # 'MA'
    idx = np.empty((n, 18), dtype=np.uint8)  # places in the alphabet
    idx[:, :2] = _USCC_INDEX[np.ascontiguousarray(np.asarray(dept_type).astype("S2")).view(np.uint8).reshape(n, 2)]
    idx[:, 2:8] = _USCC_INDEX[np.ascontiguousarray(np.asarray(district_codes).astype("S6")).view(np.uint8).reshape(n, 6)]
    if (idx[:, :8] == 255).any():
        raise ValueError("a credit code prefix outside the alphabet")
    idx[:, 8:17] = body_idx
    weighted = idx[:, :17].astype(np.int32) * _USCC_WEIGHTS.astype(np.int32)
    idx[:, 17] = (31 - weighted.sum(axis=1, dtype=np.int32) % 31) % 31
    chars = _USCC_CHARS_B[idx]
    out = np.ascontiguousarray(chars).view("S18").ravel()
    return out if as_bytes else out.astype("<U18")


def uscc_check_char(body17: str) -> str:
    """Check character of a 17-character credit-code body."""
    s = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body17, _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - s % 31) % 31]


def is_valid_id(s: str) -> bool:
    """Whether ``s`` is a valid identity number (format, check character, real date)."""
    if len(s) != 18 or not s[:17].isdigit() or s[17] not in "0123456789X":
        return False
    try:
        dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return id_check_char(s[:17]) == s[17]


def is_valid_uscc(s: str) -> bool:
    """Whether ``s`` is a valid credit code (alphabet and check character)."""
    return len(s) == 18 and all(c in USCC_ALPHABET for c in s) and uscc_check_char(s[:17]) == s[17]
