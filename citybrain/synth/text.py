"""Text columns built with integer arithmetic, and their fast way into Arrow.

A city-scale day is tens of millions of rows of identifiers, dates and times of known
width. Built as numpy byte strings (dtype ``S``) from numbers they cost a fraction of
numpy's string functions, and Arrow takes any numpy text column as one data buffer and its
offsets (UTF-8 encoded here, vectorised), without a Python object per value.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_INT32_MAX = 2**31 - 1


def decimal(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal numbers of ``width`` digits, as ``S{width}`` (like ``str.zfill``)."""
    v = np.asarray(values, dtype=np.int64)
    if len(v) and (v.min() < 0 or v.max() >= 10**width):  # wider than the padding: zfill's result
        return np.char.zfill(v.astype(str), width).astype("S")
    out = np.empty((len(v), width), dtype=np.uint8)
    for k in range(width - 1, -1, -1):
        v, digit = np.divmod(v, 10)
        out[:, k] = digit
    out += 48
    return out.view(f"S{width}").ravel()


def join(*parts: bytes | str | np.ndarray) -> np.ndarray:
    """Concatenate fixed-width parts row by row: constants (``str``/``bytes``) and ``S`` arrays
    whose every value fills the width (no shorter values)."""
    arrays = [p for p in parts if isinstance(p, np.ndarray)]
    n = len(arrays[0])
    cols = []
    for p in parts:
        if isinstance(p, np.ndarray):
            cols.append(np.ascontiguousarray(p).view(np.uint8).reshape(n, p.dtype.itemsize))
        else:
            b = p.encode() if isinstance(p, str) else p
            cols.append(np.broadcast_to(np.frombuffer(b, np.uint8), (n, len(b))))
    width = sum(c.shape[1] for c in cols)
    if n == 0:
        return np.array([], dtype=f"S{width}")
    return np.ascontiguousarray(np.concatenate(cols, axis=1)).view(f"S{width}").ravel()


def iso_dates(days: np.ndarray | int) -> np.ndarray:
    """YYYY-MM-DD of day numbers (days since 1970-01-01) as ``S10``."""
    d = np.asarray(days, dtype=np.int64)
    if d.ndim == 0 or len(d) == 0:
        return np.datetime_as_string(d.astype("datetime64[D]"), unit="D").astype("S10")
    lo, hi = int(d.min()), int(d.max())
    if lo < -719162 or hi > 2932896 or hi - lo > 1_000_000:  # outside years 1..9999: numpy's own strings
        return np.datetime_as_string(d.astype("datetime64[D]"), unit="D").astype("S")
    table = np.datetime_as_string(np.arange(lo, hi + 1).astype("datetime64[D]"), unit="D").astype("S10")
    return table[d - lo]


def iso_seconds(seconds: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD HH:MM:SS' of seconds since 1970-01-01 as ``S19``."""
    s = np.asarray(seconds, dtype=np.int64)
    day, rem = np.divmod(s, 86400)
    return join(iso_dates(day), " ", decimal(rem // 3600, 2), ":", decimal(rem // 60 % 60, 2), ":", decimal(rem % 60, 2))


def to_arrow(values: np.ndarray) -> pa.Array:
    """A numpy text column as an Arrow string array.

    ``S`` arrays are taken as UTF-8 bytes, ``U`` arrays are encoded to UTF-8 with array
    arithmetic; a masked array's masked values become nulls. Values keep numpy's meaning:
    trailing NULs are not part of a value. Object arrays (strings and None) go through Arrow's
    own conversion.
    """
    mask = None
    if isinstance(values, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(values)
        values = values.data
    values = np.asarray(values)
    if values.ndim != 1 or values.dtype.kind not in "SU":
        obj = np.asarray(values, dtype=object)
        if mask is not None:
            obj = obj.copy()
            obj[mask] = None
        return pa.array(obj, type=pa.string())
    n = len(values)
    length = np.strings.str_len(values)
    if mask is not None:
        length = np.where(mask, 0, length)
    if values.dtype.kind == "S":
        width = values.dtype.itemsize
        units = np.ascontiguousarray(values).view(np.uint8).reshape(n, width)
    else:
        width = values.dtype.itemsize // 4
        units = np.ascontiguousarray(values).view(np.uint32).reshape(n, width)
    full = bool((length == width).all())
    inside = None if full else np.arange(width)[None, :] < length[:, None]
    flat = units.ravel() if full else units[inside]  # every value's units, one after another
    sizes = length
    if values.dtype.kind == "S" or flat.size == 0 or flat.max() < 0x80:  # one byte a unit
        data = flat.astype(np.uint8, copy=False)
    elif ((flat >= 0xD800) & (flat < 0xE000)).any() or flat.max() > 0x10FFFF:
        return pa.array(values.tolist(), type=pa.string(), mask=mask)  # not encodable: let Arrow decide
    elif flat.min() >= 0x800 and flat.max() < 0x10000:  # all three-byte (Chinese text)
        b = np.empty((len(flat), 3), dtype=np.uint8)
        b[:, 0] = 0xE0 | (flat >> 12)
        b[:, 1] = 0x80 | ((flat >> 6) & 0x3F)
        b[:, 2] = 0x80 | (flat & 0x3F)
        data = b.ravel()
        sizes = 3 * length
    else:
        # Three bytes for everyone, then the one-, two- and four-byte units on their own.
        b = np.empty((len(flat), 4), dtype=np.uint8)
        b[:, 0] = 0xE0 | (flat >> 12)
        b[:, 1] = 0x80 | ((flat >> 6) & 0x3F)
        b[:, 2] = 0x80 | (flat & 0x3F)
        nb = np.full(len(flat), 3, dtype=np.int8)
        i = np.flatnonzero(flat < 0x80)
        b[i, 0], nb[i] = flat[i], 1
        i = np.flatnonzero((flat >= 0x80) & (flat < 0x800))
        b[i, 0], b[i, 1], nb[i] = 0xC0 | (flat[i] >> 6), 0x80 | (flat[i] & 0x3F), 2
        i = np.flatnonzero(flat >= 0x10000)
        b[i, 0], b[i, 1], b[i, 2], b[i, 3], nb[i] = (0xF0 | (flat[i] >> 18), 0x80 | ((flat[i] >> 12) & 0x3F),
                                                    0x80 | ((flat[i] >> 6) & 0x3F), 0x80 | (flat[i] & 0x3F), 4)
        ends = np.concatenate([[0], np.cumsum(nb, dtype=np.int64)])
        bounds = np.concatenate([[0], np.cumsum(length, dtype=np.int64)])
        sizes = ends[bounds[1:]] - ends[bounds[:-1]]
        data = b[np.arange(4)[None, :] < nb[:, None]]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    if offsets[-1] > _INT32_MAX:
        return pa.array(values.tolist(), type=pa.string(), mask=mask)
    validity = None
    null_count = 0
    if mask is not None and mask.any():
        validity = pa.py_buffer(np.packbits(~mask, bitorder="little"))
        null_count = int(mask.sum())
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(np.ascontiguousarray(data)),
                                       validity, null_count)
