"""Backups of a data directory: the warehouse, the serving snapshots, the operational store
and the keys, in one tar file with a manifest of checksums; and restoring one.

The warehouse is copied while this process holds its write lock (after a CHECKPOINT), so no
refresh can change it mid-copy; the operational store is copied with SQLite's online backup
API, so the cockpit keeps running. The landing zone is not included: it holds the
departments' original files, which the platform never changes and which belong in the
file-system backups of the landing area itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import tarfile
import tempfile
from pathlib import Path

import duckdb

from warehouse.serving.publish import POINTER
from warehouse.storage.faults import PlatformFault
from warehouse.storage.home import Home

FORMAT = "citybrain-backup/1"
MANIFEST = "MANIFEST.json"
KEYS = ("audit.key", "cockpit.key")


class BackupError(PlatformFault):
    """A backup or restore that cannot be done, with what to do about it."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _copy_warehouse(source: Path, dest: Path) -> None:
    try:
        con = duckdb.connect(str(source))
    except duckdb.IOException as e:
        raise BackupError(f"the warehouse {source} is in use (a refresh is running?): {e}. Try again when it has finished.") from e
    try:
        con.execute("CHECKPOINT")
        shutil.copyfile(source, dest)  # still holding the lock: no writer can start meanwhile
    finally:
        con.close()


def backup(home: Home, target: Path) -> Path:
    """Write a backup of ``home`` to ``target`` (a .tar file, or a folder to put one in)."""
    if target.is_dir() or not target.suffix:
        target.mkdir(parents=True, exist_ok=True)
        target = target / f"citybrain-backup-{dt.datetime.now().strftime('%Y%m%dT%H%M%S')}.tar"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".citybrain-backup-") as tmp:
        staged = Path(tmp)
        files: list[str] = []
        if home.warehouse.exists():
            _copy_warehouse(home.warehouse, staged / "warehouse.duckdb")
            files.append("warehouse.duckdb")
        ops = home.root / "ops.sqlite"
        if ops.exists():
            with sqlite3.connect(ops) as src, sqlite3.connect(staged / "ops.sqlite") as dst:
                src.backup(dst)
            files.append("ops.sqlite")
        for key in KEYS:
            if (home.root / key).exists():
                shutil.copyfile(home.root / key, staged / key)
                files.append(key)
        if (home.serving / POINTER).exists():
            (staged / "serving").mkdir()
            for snap in sorted(home.serving.glob("snapshot-*.duckdb")) + [home.serving / POINTER]:
                shutil.copyfile(snap, staged / "serving" / snap.name)
                files.append(f"serving/{snap.name}")
        manifest = {"format": FORMAT, "created_at": dt.datetime.now().isoformat(timespec="seconds"),
                    "home": str(home.root), "files": {f: _sha256(staged / f) for f in files}}
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            for name in [MANIFEST, *files]:
                tar.add(staged / name, arcname=name)
        partial.chmod(0o600)  # it holds personal data and the keys
        partial.replace(target)
    return target


def restore(archive: Path, home: Home, *, force: bool = False) -> dict:
    """Restore ``archive`` into ``home``; refuses to overwrite an existing warehouse unless
    ``force``. Every file is checked against the manifest before anything is replaced."""
    if not archive.is_file():
        raise BackupError(f"no backup at {archive}")
    if home.warehouse.exists() and not force:
        raise BackupError(f"{home.root} already has a warehouse; restore with --force to replace it")
    home.root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home.root, prefix=".citybrain-restore-") as tmp:
        staged = Path(tmp)
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(staged, filter="data")
            manifest = json.loads((staged / MANIFEST).read_text(encoding="utf-8"))
        except (tarfile.TarError, OSError, ValueError) as e:
            raise BackupError(f"{archive} is not a readable City Brain backup: {e}") from e
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{archive} is not a City Brain backup of format {FORMAT}")
        for name, digest in manifest["files"].items():
            if not (staged / name).is_file() or _sha256(staged / name) != digest:
                raise BackupError(f"{archive} is damaged: {name} does not match its checksum; nothing was restored")
        # Verified: now replace, the pointer last so the cockpit switches only to a whole snapshot.
        names = sorted(manifest["files"], key=lambda n: n == f"serving/{POINTER}")
        for name in names:
            dest = home.root / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            # A stale write-ahead log beside a replaced database would be replayed into it.
            for suffix in {"warehouse.duckdb": (".wal",), "ops.sqlite": ("-wal", "-shm")}.get(name, ()):
                dest.with_name(dest.name + suffix).unlink(missing_ok=True)
            (staged / name).replace(dest)
    return manifest
