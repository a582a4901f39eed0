"""The landing zone: find deliveries at ``landing/<department>/<feed>/<YYYY-MM-DD>/<file>``."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from warehouse.contract.feeds import FORMATS, Feed, feed

MANIFEST_SUFFIX = ".manifest.json"
# Names a department's upload tool uses while a file is still being written.
_IN_PROGRESS = (".tmp", ".part", ".partial", ".crdownload", ".uploading")


@dataclass(frozen=True)
class LandingFile:
    """A file found in the landing zone, with what its path says about it."""

    path: Path
    department: str
    feed_name: str
    business_date: dt.date | None
    file_name: str
    size: int
    mtime_ns: int
    manifest: Path | None
    manifest_mtime_ns: int | None
    feed: Feed | None
    # Why the path itself is unusable (unknown feed, bad date folder, unsupported type).
    path_problem: tuple[str, str, dict] | None = None  # (reason, message key, parameters): see contract.labels

    @property
    def format(self) -> str:
        return self.file_name.rsplit(".", 1)[-1].lower() if "." in self.file_name else ""

    @property
    def fingerprint(self) -> str:
        """Cheap change detector: size and mtime of the file and its manifest."""
        return f"{self.size}:{self.mtime_ns}:{self.manifest_mtime_ns or 0}"

    @property
    def arrived_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.mtime_ns / 1e9)


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def scan(landing: Path, unreadable: list[tuple[str, str]] | None = None) -> list[LandingFile]:
    """Every delivery file under ``landing``, in delivery order (business date, arrival, name).

    Hidden files, manifests and files still being uploaded are not deliveries. Files at
    the wrong depth or under unknown department/feed folders are returned with a
    ``path_problem`` so they are reported, never silently ignored. Folders that cannot be
    listed are appended to ``unreadable`` as (path relative to ``landing``, why).
    """
    found: list[LandingFile] = []
    if not landing.is_dir():
        return found

    def cannot_list(err: OSError) -> None:
        if unreadable is not None:
            where = Path(err.filename).relative_to(landing).as_posix() if err.filename else "."
            unreadable.append((where, err.strerror or str(err)))

    for dirpath, dirnames, filenames in os.walk(landing, onerror=cannot_list):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel = Path(dirpath).relative_to(landing).parts
        names = set(filenames)
        for name in sorted(filenames):
            if name.startswith(".") or name.endswith(MANIFEST_SUFFIX) or name.lower().endswith(_IN_PROGRESS):
                continue
            path = Path(dirpath) / name
            try:
                st = path.stat()
            except OSError:
                continue  # vanished between listing and stat: picked up next scan if it returns
            man = path.with_name(name + MANIFEST_SUFFIX) if name + MANIFEST_SUFFIX in names else None
            man_mtime = None
            if man is not None:
                try:
                    man_mtime = man.stat().st_mtime_ns
                except OSError:
                    man = None
            dept, fname, day = (list(rel) + ["", "", ""])[:3]
            bdate = _parse_date(day)
            f = feed(dept, fname)
            problem = None
            if len(rel) != 3 or f is None:
                where = "/".join(rel) or "."
                problem = ("unknown_feed", "not_a_feed", {"path": f"{where}/{name}"})
            elif bdate is None:
                problem = ("unknown_feed", "not_a_business_date", {"folder": day})
            elif name.rsplit(".", 1)[-1].lower() not in FORMATS:
                problem = ("unreadable", "not_a_format", {"file": name})
            found.append(
                LandingFile(path, dept, fname, bdate, name, st.st_size, st.st_mtime_ns, man, man_mtime, f, problem)
            )
    found.sort(key=lambda x: (x.business_date or dt.date.min, x.mtime_ns, x.department, x.feed_name, x.file_name))
    return found


UNRECOGNISED = "?"  # the digest key of files under no known feed
# A stream's micro-batch (warehouse/stream/batches.py): ingested by every refresh, but no
# reason to start one (the landing sensor would otherwise run the daily job per batch).
STREAM_BATCH = re.compile(r"stream-(\d{12})-(\d{12})-(\d+)of(\d+)\.jsonl")


def digests(landing: Path) -> dict[str, str]:
    """A digest per feed id (``UNRECOGNISED`` for files of no known feed) of its files' paths,
    sizes and mtimes: what changed in the landing zone, without opening a file. A stream's
    batches are left out: they wait for the next refresh a daily file, the schedule or a
    person starts, and the live figures do not wait for a refresh at all."""
    parts: dict[str, list[str]] = defaultdict(list)
    for f in scan(landing):
        if f.feed is not None and STREAM_BATCH.fullmatch(f.file_name):
            continue
        parts[f.feed.id if f.feed else UNRECOGNISED].append(f"{f.path}|{f.fingerprint}")
    return {k: hashlib.sha256("\n".join(v).encode()).hexdigest()[:16] for k, v in sorted(parts.items())}
