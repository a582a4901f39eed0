"""Vectorised, always-valid identity numbers (GB 11643) and credit codes (GB 32100).

The generator's own implementation; tests check its output against python-stdnum.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_CHARS = np.array(list(USCC_ALPHABET))
_USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
EPOCH = dt.date(1970, 1, 1)


def _load_places() -> list[tuple[str, int, int]]:
    with (Path(__file__).parent / "place_codes.csv").open(encoding="utf-8") as fh:
        return [(r["code"], int(r["first_year"] or 0), int(r["last_year"] or 9999)) for r in csv.DictReader(fh)]


PLACES = _load_places()


def place_codes_for(years: np.ndarray, rng: np.random.Generator, prefer: np.ndarray | None = None) -> np.ndarray:
    """A place-of-registration code valid in each birth year (``prefer`` wins where valid).

    Works in chunks: the choice matrix is rows x codes, too big to build at once for a
    12-million-person city.
    """
    codes = np.array([p[0] for p in PLACES])
    first = np.array([p[1] for p in PLACES])
    last = np.array([p[2] for p in PLACES])
    out = np.empty(len(years), dtype="<U6")
    step = 500_000
    for start in range(0, len(years), step):
        y = years[start : start + step]
        valid = (y[:, None] >= first[None, :]) & (y[:, None] <= last[None, :])
        # Pick uniformly among valid codes via random keys masked to the valid set.
        keys = np.where(valid, rng.random((len(y), len(codes))), -1.0)
        chunk = codes[keys.argmax(axis=1)]
        if prefer is not None:
            pref = prefer[start : start + step]
            ok = (pref[:, None] == codes[None, :]) & valid
            chunk = np.where(ok.any(axis=1), pref, chunk)
        out[start : start + step] = chunk
    return out


def id_numbers(places: np.ndarray, birth_days: np.ndarray, genders: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Identity numbers for birth dates (days since 1970-01-01) and genders ('1'/'2').

    The random draws happen once for all rows (so results do not depend on chunking); the
    string work runs in chunks, since its digit matrices would need gigabytes at city scale.
    """
    n = len(places)
    if n == 0:
        return np.array([], dtype="<U18")
    seq = rng.integers(0, 100, n)
    parity = rng.integers(0, 5, n) * 2  # even digit 0..8
    g = np.where(genders == "1", parity + 1, parity)
    out = np.empty(n, dtype="<U18")
    step = 500_000
    for a in range(0, n, step):
        b = a + step
        ymd = np.char.replace(np.array(birth_days[a:b], dtype="datetime64[D]").astype(str), "-", "")
        body_num = np.char.add(np.char.add(places[a:b].astype("<U6"), ymd.astype("<U8")), np.char.zfill(seq[a:b].astype(str), 2))
        body = np.char.add(body_num, g[a:b].astype(str))
        d = _body_digits(body)
        out[a:b] = np.char.add(body, _ID_CHECK[(d * _ID_WEIGHTS).sum(axis=1) % 11])
    return out


def _body_digits(body: np.ndarray) -> np.ndarray:
    raw = np.frombuffer(body.astype("S17").tobytes(), dtype=np.uint8).reshape(len(body), 17)
    return raw.astype(np.int64) - 48


def id_check_char(body17: str) -> str:
    """Check character of a 17-digit identity-number body."""
    return str(_ID_CHECK[sum(int(c) * w for c, w in zip(body17, _ID_WEIGHTS)) % 11])


def usccs(dept_type: np.ndarray, district_codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Credit codes: registration authority + type (e.g. '91'), division code, 9-character body."""
    n = len(dept_type)
    if n == 0:
        return np.array([], dtype="<U18")
    body_idx = rng.integers(0, 31, (n, 9))
    # Organisation codes are mostly digits; letters appear in newer 'MA...' style codes.
    body_idx[:, :2] = np.where(rng.random((n, 1)) < 0.6, [[21, 10]], rng.integers(0, 10, (n, 2)))  # 'MA'
    prefix = np.char.add(dept_type.astype("<U2"), district_codes.astype("<U6"))
    uniq, inv = np.unique(prefix, return_inverse=True)
    pre_idx = np.array([[USCC_ALPHABET.index(c) for c in p] for p in uniq])
    idx = np.concatenate([pre_idx[inv], body_idx], axis=1)
    check = (31 - (idx * _USCC_WEIGHTS).sum(axis=1) % 31) % 31
    chars = _USCC_CHARS[np.concatenate([idx, check[:, None]], axis=1)]
    return np.ascontiguousarray(chars).view("<U18").ravel()


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
