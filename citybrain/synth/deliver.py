"""Turn emitted events into landing-zone files, with planted defects and their ground truth.

Each (feed, business date) becomes one delivery in CSV (UTF-8, UTF-8 with BOM or
GB18030), JSONL or Parquet, sometimes with a manifest, arriving on time or late (its
mtime), occasionally never. A configurable share of rows is copied with a defect whose
exact rejection reasons are recorded; a few extra files carry file-level defects.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import queue
import threading
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from citybrain.synth.ids import (
    EPOCH,
    USCC_ALPHABET,
    id_check_char,
    id_numbers,
    is_valid_id,
    is_valid_uscc,
    uscc_check_char,
    usccs,
)
from citybrain.synth.text import to_arrow
from warehouse.contract.feeds import FEEDS, FEEDS_BY_ID, FILE_REASONS, Feed

# Columns whose values take part in cross-field checks: a second defect avoids them.
_CROSS = {"id_number", "gender", "birth_date", "holder_id", "holder_type", "certificate_type",
          "event_type", "event_time", "due_at"}
_BAD_DATES = ["2026-02-30", "1899-12-31", "31/12/2020", "unknown", "2025-13-01"]
_BAD_TIMES = ["2026-02-30 10:00:00", "1899-12-31 08:00:00", "yesterday", "2025-01-01 25:61:00"]
_BAD_CODES = {"gender": "9", "ethnicity": "57"}
_FMT_WEIGHTS = {  # csv, jsonl, parquet
    "psb/household_events": (0.8, 0.0, 0.2), "health/death_records": (0.4, 0.5, 0.1),
    "civil/marriage_registrations": (0.7, 0.2, 0.1), "hrss/insurance_events": (0.5, 0.1, 0.4),
    "samr/entity_events": (0.6, 0.2, 0.2), "dsb/certificate_events": (0.4, 0.3, 0.3),
    "dsb/certificate_usage": (0.4, 0.2, 0.4), "hotline/service_requests": (0.5, 0.3, 0.2),
}
# reason -> (column kind, holder_type it applies to, check character, alphabet)
_CHECK_CHARS = {
    "bad_id_number": ("id_number", "person", id_check_char, "0123456789X"),
    "bad_uscc": ("uscc", "legal_person", uscc_check_char, USCC_ALPHABET),
}
ROW_DEFECTS = ("missing_value", "bad_id_number", "bad_uscc", "bad_date", "future_date", "bad_code",
               "unknown_district", "mismatch", "bad_number", "duplicate", "malformed_row")


def _seed(*parts: object) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


class _Writer:
    """One background thread that runs jobs in the order they come (the files' rows stay in
    order); ``drain`` waits for all of them and raises the first job's error, if any."""

    def __init__(self) -> None:
        self.jobs: queue.Queue = queue.Queue(maxsize=2)  # bounds the rows held in memory
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="synth-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                if self.error is None:
                    job()
            except BaseException as e:  # noqa: BLE001 - handed to the generating thread
                self.error = e
            finally:
                self.jobs.task_done()

    def _raise(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def submit(self, job: Callable[[], None]) -> None:
        self._raise()
        self.jobs.put(job)

    def drain(self) -> None:
        self.jobs.join()
        self._raise()

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join()


@dataclass
class _Delivery:
    feed: Feed
    bdate: int
    fmt: str
    encoding: str  # utf-8 | utf-8-sig | gb18030
    manifest: bool
    arrival: dt.datetime
    late: bool
    path: Path
    rows: int = 0
    drift: bool = False  # the department added a column the contract does not know
    writer: object = None
    handle: object = None


class Deliveries:
    """Routes emitted rows to delivery files and records the ground truth."""

    def __init__(self, home: Path, start: dt.date, end: dt.date, seed: int, defect_rate: float, *,
                 clean_truth: bool, city_scale: bool, clean: bool = False) -> None:
        self.landing = home / "landing"
        self.truth = home / "truth"
        self.start, self.end = start, end
        self.seed = seed
        self.defect_rate = defect_rate
        self.clean_truth = clean_truth
        self.city_scale = city_scale
        self.clean = clean  # no missing, late or broken files, no schema drift
        self.rng = np.random.default_rng(_seed(seed, "deliver"))
        self.open: dict[tuple[str, int], _Delivery] = {}
        self.done: set[tuple[str, int]] = set()
        self.rotation: dict[str, int] = defaultdict(int)
        self.samples: dict[str, list[dict]] = {}
        self.defect_serial = 0
        self.rows_total = 0
        self.rows_not_yet_due = 0
        self.truth.mkdir(parents=True, exist_ok=True)
        self.landing.mkdir(parents=True, exist_ok=True)
        self.t_deliveries = open(self.truth / "deliveries.csv", "w", newline="", encoding="utf-8")
        self.t_rejections = open(self.truth / "rejections.csv", "w", newline="", encoding="utf-8")
        self.w_deliveries = csv.writer(self.t_deliveries)
        self.w_rejections = csv.writer(self.t_rejections)
        self.w_deliveries.writerow(["department", "feed", "business_date", "file_name", "rows", "file_reason", "arrived_at", "late", "format", "encoding", "extra_columns"])
        self.w_rejections.writerow(["department", "feed", "business_date", "file_name", "line_number", "reason", "column_name"])
        self.clean_writers: dict[str, pq.ParquetWriter] = {}
        self.writer = _Writer()
        self.missing: list[tuple[str, str, str]] = []
        self._plan_missing_and_file_defects()

    # ---------------------------------------------------------------- planning
    def _plan_missing_and_file_defects(self) -> None:
        days = (self.end - self.start).days + 1
        rng = np.random.default_rng(_seed(self.seed, "plan"))
        later = [self.start + dt.timedelta(i) for i in range(1, days)]
        self.missing_days: set[tuple[str, dt.date]] = set()
        self.file_defects: dict[tuple[str, dt.date], list[str]] = defaultdict(list)
        if self.clean:
            return
        for fid in ("dsb/certificate_usage", "hrss/insurance_events"):
            for d in later:
                if rng.random() < 0.02:
                    self.missing_days.add((fid, d))
        if len(later) >= 4 and not self.missing_days:
            self.missing_days.add(("dsb/certificate_usage", later[int(rng.integers(0, len(later)))]))
        kinds = list(FILE_REASONS) + ["unknown_feed"]
        n = max(len(kinds), round(0.03 * days * len(FEEDS)))
        all_days = [self.start + dt.timedelta(i) for i in range(days)]
        for i in range(n):
            fid = FEEDS[int(rng.integers(0, len(FEEDS)))].id
            d = all_days[int(rng.integers(0, len(all_days)))]
            if (fid, d) in self.missing_days:
                d = self.start
            self.file_defects[(fid, d)].append(kinds[i % len(kinds)])

    def _new_delivery(self, fid: str, bdate: int) -> _Delivery:
        feed = FEEDS_BY_ID[fid]
        day = EPOCH + dt.timedelta(bdate)
        rng = np.random.default_rng(_seed(self.seed, fid, bdate))
        w = np.array(_FMT_WEIGHTS[fid], dtype=float)
        big = day == self.start or (self.city_scale and fid == "dsb/certificate_usage")
        if big:
            w[1] = 0.0  # bulk loads and the city's usage stream are never JSON lines
        fmt = ("csv", "jsonl", "parquet")[int(rng.choice(3, p=w / w.sum()))]
        encoding = "utf-8"
        if fmt == "csv":
            r = rng.random()
            encoding = "gb18030" if r < 0.12 else ("utf-8-sig" if r < 0.3 else "utf-8")
        drift = fmt != "jsonl" and bool(rng.random() < 0.04) and not self.clean
        late = bool(rng.random() < 0.05) and not self.clean
        hours = rng.uniform(7, 30) if late else rng.uniform(0.5, 5.5)
        arrival = dt.datetime.combine(day + dt.timedelta(1), dt.time()) + dt.timedelta(hours=float(hours))
        name = f"{feed.name}_{day:%Y%m%d}.{fmt}"
        path = self.landing / feed.department / feed.name / day.isoformat() / name
        return _Delivery(feed, bdate, fmt, encoding, bool(rng.random() < 0.3), arrival, late, path, drift=drift)

    # ---------------------------------------------------------------- rows in
    def emit(self, fid: str, bdate: np.ndarray, cols: dict[str, np.ndarray]) -> None:
        """Accept a batch of clean rows of one feed with each row's business date."""
        bdate = np.asarray(bdate, dtype=np.int64)
        n = len(bdate)
        if n == 0:
            return
        self.rows_total += n
        end = (self.end - EPOCH).days
        for b in np.unique(bdate):
            sel = np.flatnonzero(bdate == b)
            if b > end:
                self.rows_not_yet_due += len(sel)
                continue
            day = EPOCH + dt.timedelta(int(b))
            if (fid, day) in self.missing_days:
                continue
            key = (fid, int(b))
            assert key not in self.done, f"{fid} {day} already closed"
            if key not in self.open:
                self.open[key] = self._new_delivery(fid, int(b))
            batch = {k: (v[sel] if len(sel) < n else v) for k, v in cols.items()}
            self._write(self.open[key], batch)

    def close_before(self, day: dt.date) -> None:
        """Finish every delivery whose business date is before ``day`` (nothing more will come)."""
        limit = (day - EPOCH).days
        for i in range((self.start - EPOCH).days, min(limit, (self.end - EPOCH).days + 1)):
            for f in FEEDS:
                key = (f.id, i)
                if key in self.done:
                    continue
                d = EPOCH + dt.timedelta(i)
                if (f.id, d) in self.missing_days:
                    self.missing.append((f.department, f.name, d.isoformat()))
                    self.done.add(key)
                    continue
                dl = self.open.pop(key, None) or self._new_delivery(f.id, i)
                self._finish(dl)
                for kind in self.file_defects.get((f.id, d), []):
                    self._file_defect(dl, kind)
                self.done.add(key)

    def close(self) -> dict:
        """Finish everything; returns a summary."""
        self.close_before(self.end + dt.timedelta(1))
        self.writer.drain()
        self.writer.stop()
        for w in self.clean_writers.values():
            w.close()
        self.t_deliveries.close()
        self.t_rejections.close()
        with open(self.truth / "missing.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["department", "feed", "business_date"])
            w.writerows(sorted(self.missing))
        return {"rows_emitted": self.rows_total, "rows_not_yet_due": self.rows_not_yet_due, "missing_deliveries": len(self.missing)}

    # ---------------------------------------------------------------- defects
    def _applicable(self, feed: Feed, fmt: str) -> list[str]:
        kinds = []
        for r in ROW_DEFECTS:
            if r == "malformed_row" and fmt == "parquet":
                continue
            if r == "bad_id_number" and not any(c.kind in ("id_number", "holder_id") for c in feed.columns):
                continue
            if r == "bad_uscc" and not any(c.kind in ("uscc", "holder_id") for c in feed.columns):
                continue
            if r == "future_date" and not any(c.event_date and c.name != "birth_date" for c in feed.columns):
                continue
            if r == "bad_code" and not any(c.kind in ("code", "handler") for c in feed.columns):
                continue
            if r == "unknown_district" and not any(c.kind == "district" for c in feed.columns):
                continue
            if r == "mismatch" and feed.id not in ("psb/household_events", "dsb/certificate_events"):
                continue
            if r == "bad_number" and not any(c.kind in ("number", "rating") for c in feed.columns):
                continue
            if r == "bad_date" and not any(c.kind in ("date", "timestamp") for c in feed.columns):
                continue
            kinds.append(r)
        return kinds

    def _mutate(self, feed: Feed, row: dict, reason: str, bdate: int, rng: np.random.Generator,
                avoid: set[str]) -> tuple[str, str | None] | None:
        """Apply one defect to ``row`` in place; returns (reason, column) or None if impossible."""
        # A column of other event types than the row's is ignored by validation: no defect there.
        cols = [c for c in feed.columns if c.name not in avoid and c.name != feed.key
                and (not c.only_on or row.get("event_type") in c.only_on)]
        pick = lambda options: options[int(rng.integers(0, len(options)))] if options else None  # noqa: E731
        if reason == "missing_value":
            c = pick([c for c in cols if c.required])
            if c:
                row[c.name] = None
                return reason, c.name
        elif reason in _CHECK_CHARS:
            # Replace the check character with a wrong one; a corrupted holder_id must not
            # happen to be a valid code of the other kind instead.
            kind, holder_type, check_char, alphabet = _CHECK_CHARS[reason]
            c = pick([c for c in cols if row.get(c.name) is not None
                      and (c.kind == kind or (c.kind == "holder_id" and row.get("holder_type") == holder_type))])
            if c:
                body = row[c.name][:17]
                right, other = check_char(body), _other_kind_check(reason, body)
                row[c.name] = pick([body + x for x in alphabet if x != right and x != other])
                return reason, c.name
        elif reason == "bad_date":
            c = pick([c for c in cols if c.kind in ("date", "timestamp")])
            if c and c.name == "due_at" and rng.random() < 0.5 and "event_time" not in avoid:
                before = dt.datetime.fromisoformat(row["event_time"]) - dt.timedelta(hours=1)
                row[c.name] = before.isoformat(sep=" ")  # a deadline before its own dispatch
                return reason, c.name
            if c:
                row[c.name] = pick(_BAD_TIMES if c.kind == "timestamp" else _BAD_DATES)
                return reason, c.name
        elif reason == "future_date":
            c = pick([c for c in cols if c.event_date and c.name != "birth_date"])
            if c:
                future = EPOCH + dt.timedelta(bdate + int(rng.integers(1, 30)))
                row[c.name] = f"{future.isoformat()} 09:30:00" if c.kind == "timestamp" else future.isoformat()
                if row.get("due_at") is not None and c.name == "event_time":  # its deadline moves with it
                    row["due_at"] = f"{(future + dt.timedelta(3)).isoformat()} 09:30:00"
                return reason, c.name
        elif reason == "bad_code":
            c = pick([c for c in cols if c.kind in ("code", "handler")])
            if c:
                row[c.name] = _BAD_CODES.get(c.name, "unknown_" + c.name[:6])
                return reason, c.name
        elif reason == "unknown_district":
            c = pick([c for c in cols if c.kind == "district"])
            if c:
                row[c.name] = pick(["330199", "110101", "3301"])
                return reason, c.name
        elif reason == "mismatch":
            if feed.id == "psb/household_events" and not {"gender", "birth_date"} & avoid:
                if rng.random() < 0.5:
                    row["gender"] = "2" if row["gender"] == "1" else "1"
                    return reason, "gender"
                b = dt.date.fromisoformat(row["birth_date"]) - dt.timedelta(1)
                row["birth_date"] = b.isoformat()
                return reason, "birth_date"
            if feed.id == "dsb/certificate_events" and "holder_id" not in avoid:
                other = ""
                while not other or (is_valid_id(other) and is_valid_uscc(other)):
                    if row["holder_type"] == "person":
                        other = str(usccs(np.array(["91"]), np.array(["330106"]), rng)[0])
                    else:
                        other = str(id_numbers(np.array(["330106"]), np.array([7000]), np.array(["1"]), rng)[0])
                row["holder_id"] = other
                return reason, "holder_id"
        elif reason == "bad_number":
            c = pick([c for c in cols if c.kind in ("number", "rating")])
            if c:
                row[c.name] = pick(["0", "6", "4.5", "abc"] if c.kind == "rating" else ["-5", "abc", "1,000"])
                return reason, c.name
        return None

    def _defect_rows(self, dl: _Delivery, n: int, row_at: Callable[[int], dict]) -> tuple[list[dict], list[int], list[list[tuple[str, str | None]]], set[int]]:
        """Defective copies of random clean rows (``row_at(i)`` is row i of the ``n`` clean rows as a
        dict): (rows, source index, reasons, malformed positions)."""
        rng = np.random.default_rng(_seed(self.seed, dl.feed.id, dl.bdate, dl.rows))
        kinds = self._applicable(dl.feed, dl.fmt)
        k = int(rng.binomial(n, self.defect_rate)) if n else 0
        if self.defect_rate > 0 and dl.bdate == (self.start - EPOCH).days and dl.rows == 0:
            k = max(k, min(n, len(kinds)))  # every reason this feed can have appears at least once
        if k == 0:
            return [], [], [], set()
        sources = np.sort(rng.integers(0, n, k))
        src_rows = [row_at(int(i)) for i in sources]
        rows, srcs, reasons, malformed = [], [], [], set()
        for src, row in zip(sources, src_rows):
            kind = kinds[self.rotation[dl.feed.id] % len(kinds)]
            self.rotation[dl.feed.id] += 1
            row = dict(row)
            if kind == "duplicate":
                got = [("duplicate", dl.feed.key)]
            else:
                self.defect_serial += 1
                row[dl.feed.key] = f"{row[dl.feed.key]}R{self.defect_serial}"
                if kind == "malformed_row":
                    malformed.add(len(rows))
                    got = [("malformed_row", None)]
                else:
                    first = self._mutate(dl.feed, row, kind, dl.bdate, rng, set())
                    for _ in range(10 if first is None else 0):  # this row cannot carry it: try others
                        src = int(rng.integers(0, n))
                        row = {**row_at(src), dl.feed.key: row[dl.feed.key]}
                        first = self._mutate(dl.feed, row, kind, dl.bdate, rng, set())
                        if first is not None:
                            break
                    if first is None:
                        continue
                    got = [first]
                    if rng.random() < 0.2:
                        second_kind = ("missing_value", "bad_code", "unknown_district", "bad_date")[int(rng.integers(0, 4))]
                        second = self._mutate(dl.feed, row, second_kind, dl.bdate, rng, _CROSS | {first[1]})
                        if second:
                            got.append(second)
            rows.append(row)
            srcs.append(int(src))
            reasons.append(got)
        return rows, srcs, reasons, malformed

    # ---------------------------------------------------------------- writing
    def _write(self, dl: _Delivery, batch: dict[str, np.ndarray]) -> None:
        names = dl.feed.column_names
        cols = {c: batch[c] for c in names}
        n = len(cols[names[0]])

        def row_at(i: int) -> dict:
            return {c: _value(cols[c], i) for c in names}

        # The latest clean rows of each feed seed the extra files that carry file-level defects.
        self.samples[dl.feed.id] = (self.samples.get(dl.feed.id, []) + [row_at(i) for i in range(min(n, 20))])[-20:]
        bad, srcs, reasons, malformed = self._defect_rows(dl, n, row_at)
        if bad:
            # Each defective copy right after its source row.
            order = np.argsort(np.concatenate([np.arange(n) * 2, np.array(srcs) * 2 + 1]), kind="stable")
            position = np.empty_like(order)
            position[order] = np.arange(len(order))
            pos_of_bad = {int(position[n + j]): j for j in range(len(bad))}
        else:
            order, pos_of_bad = None, {}
        first_line = dl.rows + 1
        raw_lines = {p: j for p, j in pos_of_bad.items() if j in malformed}
        for p, j in sorted(pos_of_bad.items()):
            for reason, col in reasons[j]:
                self.w_rejections.writerow([dl.feed.department, dl.feed.name, _iso(dl.bdate), dl.path.name, first_line + p, reason, col or ""])
        # Arrow tables and files are made by the writer thread while the city lives on.
        self.writer.submit(lambda: self._write_rows(dl, cols, bad, order, raw_lines, first_line))
        dl.rows += n + len(bad)

    def _write_rows(self, dl: _Delivery, cols: dict[str, np.ndarray], bad: list[dict], order: np.ndarray | None,
                    raw_lines: dict[int, int], first_line: int) -> None:
        """Append clean rows and their defective copies (placed by ``order``) to the delivery's
        file, and the clean rows to the truth (in the writer thread)."""
        names = dl.feed.column_names
        n = len(cols[names[0]])
        if order is not None:
            full = pa.table({c: to_arrow(_interleave(cols[c], [r[c] for r in bad], order)) for c in names})
        else:
            full = pa.table({c: to_arrow(cols[c]) for c in names})
        if dl.drift:
            full = full.append_column("remark", pa.array(["备注"] * full.num_rows, pa.string()))
        self._append(dl, full, raw_lines, header=first_line == 1)
        if self.clean_truth:
            clean_pos = np.arange(full.num_rows) if order is None else np.flatnonzero(order < n)
            clean = full.select(names).take(pa.array(clean_pos))
            clean = clean.append_column("_business_date", pa.array([_iso(dl.bdate)] * len(clean_pos)))
            clean = clean.append_column("_file_name", pa.array([dl.path.name] * len(clean_pos)))
            clean = clean.append_column("_line", pa.array(clean_pos + first_line, type=pa.int64()))
            w = self.clean_writers.get(dl.feed.id)
            if w is None:
                (self.truth / "clean").mkdir(exist_ok=True)
                w = pq.ParquetWriter(self.truth / "clean" / f"{dl.feed.department}__{dl.feed.name}.parquet", clean.schema)
                self.clean_writers[dl.feed.id] = w
            w.write_table(clean)

    def _append(self, dl: _Delivery, table: pa.Table, raw_lines: dict[int, int], *, header: bool) -> None:
        """Write rows to the delivery's file; ``header``: they are its first rows."""
        dl.path.parent.mkdir(parents=True, exist_ok=True)
        if dl.fmt == "parquet":
            if dl.writer is None:
                dl.writer = pq.ParquetWriter(dl.path, table.schema)
            dl.writer.write_table(table)
            return
        if dl.handle is None:
            dl.handle = open(dl.path, "wb")
            if dl.encoding == "utf-8-sig":
                dl.handle.write(b"\xef\xbb\xbf")
        if dl.fmt == "csv":
            lines = _csv_lines(table, header=header)
            offset = 1 if header else 0
            for p in raw_lines:
                line = lines[p + offset]
                lines[p + offset] = line + ",EXTRA" if p % 2 == 0 else line.rsplit(",", 2)[0]
        else:
            lines = table.to_pandas().to_json(orient="records", lines=True, force_ascii=False).splitlines()
            for p in raw_lines:
                lines[p] = lines[p][: max(1, len(lines[p]) // 2)]
        text = "\n".join(lines) + "\n"
        dl.handle.write(text.encode("gb18030" if dl.encoding == "gb18030" else "utf-8"))

    def _finish(self, dl: _Delivery) -> None:
        self.writer.drain()
        dl.path.parent.mkdir(parents=True, exist_ok=True)
        if dl.rows == 0:  # a day with nothing to report: header only (or an empty file)
            cols = dl.feed.column_names + (["remark"] if dl.drift else [])
            if dl.fmt == "parquet":
                pq.write_table(pa.table({c: pa.array([], pa.string()) for c in cols}), dl.path)
            else:
                with open(dl.path, "wb") as fh:
                    if dl.fmt == "csv":
                        fh.write((b"\xef\xbb\xbf" if dl.encoding == "utf-8-sig" else b"") + (",".join(cols) + "\n").encode())
        if dl.writer is not None:
            dl.writer.close()
        if dl.handle is not None:
            dl.handle.close()
        if dl.manifest:
            _write_manifest(dl.path, dl.rows)
        _set_arrival(dl.path, dl.arrival)
        self.w_deliveries.writerow([dl.feed.department, dl.feed.name, _iso(dl.bdate), dl.path.name, dl.rows, "",
                                    dl.arrival.isoformat(sep=" "), int(dl.late), dl.fmt, dl.encoding, "remark" if dl.drift else ""])

    def _file_defect(self, dl: _Delivery, kind: str) -> None:
        """An extra file for the same feed and day that must be rejected whole."""
        feed = dl.feed
        rows = [dict(r) for r in self.samples.get(feed.id, [])][:10]
        for r in rows:
            self.defect_serial += 1
            r[feed.key] = f"{r[feed.key]}F{self.defect_serial}"
        day = _iso(dl.bdate)
        stem = f"{feed.name}_{day.replace('-', '')}_resend{self.defect_serial}"
        folder = dl.path.parent
        table = pa.Table.from_pylist(rows, schema=pa.schema([(c, pa.string()) for c in feed.column_names])) if rows else \
            pa.table({c: pa.array([], pa.string()) for c in feed.column_names})
        if kind == "unknown_feed":
            folder = self.landing / feed.department / f"{feed.name}_v2" / day
            path = folder / f"{stem}.csv"
        elif kind == "unreadable":
            path = folder / f"{stem}.parquet"
        else:
            path = folder / f"{stem}.csv"
        folder.mkdir(parents=True, exist_ok=True)
        if kind == "unreadable":
            path.write_bytes(b"PAR1" + bytes(np.random.default_rng(self.defect_serial).integers(0, 256, 300, dtype=np.uint8)))
        else:
            if kind == "missing_column":
                drop = [c for c in feed.required_columns if c != feed.key][0]
                table = table.drop_columns([drop])
            text = "\n".join(_csv_lines(table, header=True)) + "\n"
            data = text.encode("utf-8")
            if kind == "bad_encoding":
                data = data.replace(b"\n", b"\xff\xfe\n", 1) if rows else data + b"\xff"
            path.write_bytes(data)
            if kind == "manifest_mismatch":
                _write_manifest(path, len(rows) + 2)
        _set_arrival(path, dl.arrival)
        self.w_deliveries.writerow([feed.department, folder.parent.name if kind == "unknown_feed" else feed.name, day, path.name,
                                    len(rows), kind, dl.arrival.isoformat(sep=" "), int(dl.late), path.suffix[1:], "utf-8", ""])


def _value(values: np.ndarray, i: int) -> str | None:
    """Row ``i`` of an emitted column as Arrow would give it back: a ``str`` or None."""
    if isinstance(values, np.ma.MaskedArray):
        if values.mask is not np.ma.nomask and values.mask[i]:
            return None
        values = values.data
    v = values[i]
    if v is None:
        return None
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def _interleave(values: np.ndarray, extra: list[str | None], order: np.ndarray) -> np.ndarray:
    """``values`` followed by ``extra`` (same kind: UTF-8 bytes for a byte-string column, a
    masked value for None), reordered by ``order``."""
    mask = np.ma.getmaskarray(values) if isinstance(values, np.ma.MaskedArray) else None
    data = values.data if isinstance(values, np.ma.MaskedArray) else np.asarray(values)
    none = np.array([v is None for v in extra], dtype=bool)
    if data.dtype.kind == "O":
        both = np.concatenate([data, np.array(extra + [None], dtype=object)[:-1]])
        return both[order]
    if data.dtype.kind == "S":
        more = np.array([b"" if v is None else v.encode("utf-8") for v in extra])
    else:
        more = np.array(["" if v is None else v for v in extra])
    both = np.concatenate([data, more.astype(data.dtype.kind)])
    if mask is None and not none.any():
        return both[order]
    full_mask = np.concatenate([np.zeros(len(data), bool) if mask is None else mask, none])
    return np.ma.masked_array(both[order], mask=full_mask[order])


def _other_kind_check(reason: str, body: str) -> str | None:
    """The one check character that would make ``body`` a valid code of the other kind than
    ``reason`` corrupts (None if no character would)."""
    if reason == "bad_id_number":  # the corrupted value must not be a valid credit code
        return uscc_check_char(body) if len(body) == 17 and all(c in USCC_ALPHABET for c in body) else None
    if len(body) != 17 or not body.isdigit():  # nor a corrupted credit code a valid identity number
        return None
    right = id_check_char(body)
    return right if is_valid_id(body + right) else None


def _iso(day_number: int) -> str:
    return (EPOCH + dt.timedelta(int(day_number))).isoformat()


def _csv_lines(table: pa.Table, *, header: bool) -> list[str]:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=header, quoting_style="needed"))
    text = buf.getvalue().decode("utf-8")
    if header:  # pyarrow quotes header names; departments' exports do not
        head, _, rest = text.partition("\n")
        text = head.replace('"', "") + "\n" + rest
    return text.rstrip("\n").split("\n") if text.strip() else []


def _write_manifest(path: Path, rows: int) -> None:
    h = hashlib.sha256(path.read_bytes()).hexdigest()
    man = path.with_name(path.name + ".manifest.json")
    man.write_text(json.dumps({"rows": rows, "sha256": h}), encoding="utf-8")


def _set_arrival(path: Path, when: dt.datetime) -> None:
    ts = when.timestamp()
    os.utime(path, (ts, ts))
    man = path.with_name(path.name + ".manifest.json")
    if man.exists():
        os.utime(man, (ts, ts))
