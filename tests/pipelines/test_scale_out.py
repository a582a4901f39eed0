"""The scale-out configuration, where this machine has the servers: Dagster's instance on
PostgreSQL (deploy/postgres/dagster.yaml) and steps on a Celery worker over RabbitMQ
(deploy/celery/celery.yaml). Each test skips cleanly where its server is absent."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest

from pipelines.run import run_daily_job
from warehouse.storage.home import Home

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-11-21 07:00"
PG = {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": "5432", "DAGSTER_PG_USER": "postgres", "DAGSTER_PG_PASSWORD": ""}
BROKER = "pyamqp://guest:guest@127.0.0.1:5672//"


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def postgres_db(monkeypatch) -> str:
    psycopg = pytest.importorskip("psycopg2")
    pytest.importorskip("dagster_postgres")
    if not _listening(5432):
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    name = f"citybrain_test_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres")
        admin.autocommit = True
    except psycopg.Error as e:
        pytest.skip(f"cannot sign in to PostgreSQL as postgres: {e}")
    admin.cursor().execute(f"CREATE DATABASE {name}")
    for k, v in {**PG, "DAGSTER_PG_DB": name}.items():
        monkeypatch.setenv(k, v)
    yield name
    admin.cursor().execute(f"DROP DATABASE {name} WITH (FORCE)")
    admin.close()


def test_the_daily_job_records_its_runs_in_postgres(tiny_city: Path, tmp_path: Path, postgres_db: str) -> None:
    import psycopg2

    home = tmp_path / "h"
    shutil.copytree(tiny_city, home)
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    shutil.copy(ROOT / "deploy" / "postgres" / "dagster.yaml", dagster_home)
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert run_daily_job(Home.resolve(home), AS_OF, instance).success
    con = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=postgres_db)
    cur = con.cursor()
    cur.execute("SELECT pipeline_name, status FROM runs ORDER BY create_timestamp")
    runs = cur.fetchall()
    con.close()
    assert runs == [("daily_refresh", "SUCCESS"), ("indicators_refresh", "SUCCESS")]


RUN = """
import dagster as dg
from pipelines.run import daily_refresh_job
with dg.DagsterInstance.get() as instance:
    result = dg.execute_job(dg.reconstructable(daily_refresh_job), instance=instance,
        run_config={"resources": {"warehouse": {"config": {"home": %r, "as_of": %r}}}})
    workers = {e.event_specific_data.metadata.get("Celery worker").text for e in result.all_events
               if e.is_engine_event and e.event_specific_data and "Celery worker" in e.event_specific_data.metadata}
    print("success" if result.success else "failure", sorted(workers))
"""


def test_steps_run_on_a_celery_worker(tiny_city: Path, tmp_path: Path) -> None:
    pytest.importorskip("dagster_celery")
    if not _listening(5672):
        pytest.skip("no RabbitMQ on 127.0.0.1:5672")
    home = tmp_path / "h"
    shutil.copytree(tiny_city, home)
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    shutil.copy(ROOT / "pipelines" / "dagster.yaml", dagster_home)
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "CITYBRAIN_HOME": str(home),
           "DAGSTER_HOME": str(dagster_home), "CITYBRAIN_EXECUTOR": "celery", "CITYBRAIN_CELERY_BROKER": BROKER,
           "CITYBRAIN_CELERY_BACKEND": "rpc://"}
    name = f"citybrain-test-{uuid.uuid4().hex[:6]}"
    worker = subprocess.Popen(
        [os.path.join(bin_dir, "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-n", name,
         "-y", str(ROOT / "deploy" / "celery" / "celery.yaml"), "-q", "dagster", "-i", "pipelines.definitions",
         "--", "--concurrency", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(3)
        assert worker.poll() is None, "the Celery worker did not start"
        done = subprocess.run([sys.executable, "-c", RUN % (str(home), AS_OF)], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.stdout.startswith("success"), done.stderr[-3000:]
        assert name in done.stdout, "every step ran on the worker"
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=30)
