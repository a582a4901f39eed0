"""Backup and restore of a refreshed data directory through the CLI."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import duckdb
import pytest
from helpers import refreshed_copy
from typer.testing import CliRunner

from citybrain.cli import app
from cockpit.auth import add_user
from warehouse.ops.store import OpsStore
from warehouse.serving.publish import current

runner = CliRunner()


def _tables(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = con.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables "
                            "WHERE table_type = 'BASE TABLE'").fetchall()
        return {n: con.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for (n,) in names}
    finally:
        con.close()


@pytest.fixture(scope="module")
def refreshed(tiny_city: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = refreshed_copy(tiny_city, tmp_path_factory.mktemp("backup") / "h")
    store = OpsStore(home)
    add_user(store, "aud", "a long password", "auditor", None)
    store.log_access("police", "steward", "view_rejected_rows", delivery_id=1, rows=1, id_numbers=["11010519491231002X"],
                     purpose="fix")
    return home


def test_backup_then_restore_brings_back_everything(refreshed: Path, tmp_path: Path) -> None:
    out = runner.invoke(app, ["backup", "--home", str(refreshed), "--to", str(tmp_path / "backups")])
    assert out.exit_code == 0, out.output
    archive = next((tmp_path / "backups").glob("citybrain-backup-*.tar"))
    assert archive.stat().st_mode & 0o077 == 0, "the archive is readable by its owner only"
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"MANIFEST.json", "warehouse.duckdb", "ops.sqlite", "audit.key", "serving/CURRENT"} <= names

    target = tmp_path / "restored"
    out = runner.invoke(app, ["restore", str(archive), "--home", str(target)])
    assert out.exit_code == 0, out.output
    assert _tables(target / "warehouse.duckdb") == _tables(refreshed / "warehouse.duckdb")
    assert current(target / "serving").name == current(refreshed / "serving").name
    store = OpsStore(target)
    assert store.user("aud")["role"] == "auditor"
    # The audit key came back too: the log is still searchable by identity number.
    assert store.access_log("11010519491231002X")[0]["username"] == "police"

    # An existing warehouse is replaced only when asked.
    out = runner.invoke(app, ["restore", str(archive), "--home", str(target)])
    assert out.exit_code == 1 and "--force" in out.output
    assert runner.invoke(app, ["restore", str(archive), "--home", str(target), "--force"]).exit_code == 0


def test_a_damaged_backup_is_refused_before_anything_is_replaced(refreshed: Path, tmp_path: Path) -> None:
    archive = tmp_path / "b.tar"
    assert runner.invoke(app, ["backup", "--home", str(refreshed), "--to", str(archive)]).exit_code == 0
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "ops.sqlite":
                data = data[:-10] + b"0123456789"
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    target = tmp_path / "t"
    shutil.copytree(refreshed, target)
    before = (target / "warehouse.duckdb").read_bytes()
    out = runner.invoke(app, ["restore", str(damaged), "--home", str(target), "--force"])
    assert out.exit_code == 1 and "ops.sqlite does not match its checksum" in out.output
    assert (target / "warehouse.duckdb").read_bytes() == before


def test_a_backup_says_plainly_when_the_warehouse_is_busy(refreshed: Path, tmp_path: Path) -> None:
    # Another process (a refresh in progress) holds the warehouse's write lock.
    hold = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); sys.stdin.read()"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(refreshed / "warehouse.duckdb")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        out = runner.invoke(app, ["backup", "--home", str(refreshed), "--to", str(tmp_path)])
    finally:
        holder.communicate("")
    assert out.exit_code == 1 and "in use" in out.output
    assert not list(tmp_path.glob("*.tar"))


def test_retention_purges_old_rejected_rows_only_when_an_auditor_authorises_it_and_logs_it(refreshed: Path,
                                                                                          tmp_path: Path) -> None:
    home = tmp_path / "h"
    shutil.copytree(refreshed, home)
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    total = con.execute("SELECT count(*) FROM ingest.rejected_rows").fetchone()[0]
    reasons = con.execute("SELECT count(*) FROM ingest.rejections").fetchone()[0]
    con.close()
    assert total > 0
    refused = runner.invoke(app, ["retention", "--home", str(home), "--by", "nobody", "--reason", "policy", "--days", "1"])
    assert refused.exit_code == 1 and "may authorise a purge" in refused.output
    done = runner.invoke(app, ["retention", "--home", str(home), "--by", "aud", "--reason", "180-day policy", "--days", "1"])
    assert done.exit_code == 0, done.output
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM ingest.rejected_rows").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM ingest.rejections").fetchone()[0] == reasons, "the reasons stay"
    con.close()
    entry = OpsStore(home).access_log()[0]
    assert (entry["username"], entry["action"], entry["rows"]) == ("aud", "purge_rejected_rows", total)
    assert entry["subjects"] > 0 and "180-day policy" in entry["purpose"]
