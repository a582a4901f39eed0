"""A process killed in the middle of an ingestion leaves the warehouse as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import ingest_all

SCRIPT = """
import sys
from pathlib import Path
from warehouse.ingest.schema import connect
from warehouse.ingest.deliveries import ingest_landing
home = Path(sys.argv[1])
con = connect(home / "warehouse.duckdb")
ingest_landing(con, home / "landing", home / "tmp")
"""


def _snapshot(home: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        # Everything but where the copy lives and when/how long it ran.
        ledger = ("delivery_id, department, feed, business_date, file_name, sha256, status, rows_read, rows_accepted, "
                  "rows_rejected, reason, error, extra_columns, supersedes, superseded_by")
        out = {"ingest.deliveries": con.execute(f"SELECT {ledger} FROM ingest.deliveries ORDER BY ALL").fetchall()}
        for t in ("ingest.rejections", "ingest.rejected_rows", "staging.household_events", "staging.certificate_usage"):
            out[t] = con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


def test_kill_9_before_commit_then_next_run_completes(tiny_city: Path, tmp_path: Path) -> None:
    home = tmp_path / "h"
    shutil.copytree(tiny_city, home)
    env = {**os.environ, "CITYBRAIN_FAILPOINT": "ingest.before_commit"}
    # The first delivery's transaction is written but not committed when the process dies.
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(home)], env=env, capture_output=True)
    assert proc.returncode == -9, proc.stderr.decode()[-500:]
    from warehouse.ingest.schema import connect

    con = connect(home / "warehouse.duckdb")
    assert con.execute("SELECT count(*) FROM ingest.deliveries").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM staging.household_events").fetchone()[0] == 0
    con.close()

    # The next run (no fault) completes the work and equals a clean run.
    subprocess.run([sys.executable, "-c", SCRIPT, str(home)], check=True)
    clean = tmp_path / "clean"
    shutil.copytree(tiny_city, clean)
    ingest_all(clean).close()
    a, b = _snapshot(home), _snapshot(clean)
    assert a.keys() == b.keys()
    for t in a:
        assert a[t] == b[t], t
    assert len(a["ingest.deliveries"]) > 90
