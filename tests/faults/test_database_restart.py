"""PostgreSQL restarted in the middle of an import: a throwaway cluster of this test (initdb on a free
port, run as the ``postgres`` user when the tests run as root), never the machine's."""

import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, UCI_PARQUET
from tests.faults.workers import free_port, redis_server, send, start_worker, stop, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextlib.contextmanager
def throwaway_postgres():
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql")
    bin_dir = Path(binaries[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="faults-pg-"))
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    run = lambda command: subprocess.run(_as_postgres(command), check=True, capture_output=True, timeout=120)  # noqa: E731
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-t", "60", "-l", str(folder / "log")]
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off"
    try:
        run([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        run([*pg_ctl, "-o", options, "start"])
        run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "faults"])
        yield (
            f"postgres://postgres@127.0.0.1:{port}/faults",
            lambda: run([*pg_ctl, "-o", options, "-m", "fast", "restart"]),
        )
    finally:
        subprocess.run(_as_postgres([*pg_ctl, "-m", "immediate", "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def manage(database_url: str, *arguments: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "retail_site.settings.test"}
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def job_row(database_url: str, job_id: int) -> dict:
    import psycopg

    try:
        with psycopg.connect(database_url, connect_timeout=3) as connection:
            row = connection.execute(
                "SELECT status, deliveries, progress, error, result FROM crm_job WHERE id = %s", [job_id]
            ).fetchone()
            orders = connection.execute("SELECT count(*) FROM crm_order").fetchone()[0]
    except psycopg.OperationalError:
        return {}
    return dict(zip(("status", "deliveries", "progress", "error", "result"), row, strict=True)) | {
        "orders": orders
    }


def test_an_import_survives_a_postgresql_restart_in_the_middle(tmp_path):
    from crm.tasks.imports import import_orders_task

    extract = tmp_path / "orders.parquet"
    pd.read_parquet(UCI_PARQUET).head(40_000).to_parquet(extract, index=False)
    os.chmod(tmp_path, 0o755)
    queue = f"test-pg-{uuid.uuid4().hex[:8]}"
    with throwaway_postgres() as (database_url, restart), redis_server(tmp_path) as (broker_url, _redis):
        manage(database_url, "migrate", "--noinput")
        job_id = int(
            manage(
                database_url, "shell", "-c",
                "from core.jobs import job_create; "
                f"print(job_create(kind='import', params={{'path': '{extract}', 'skip_invalid': True}}).pk)",
            ).split()[-1]  # the last line (the shell may print its automatic imports before it)
        )  # fmt: skip
        worker = start_worker(
            broker_url=broker_url, node="pg@test", queue=queue, log_path=tmp_path / "w.log",
            DATABASE_URL=database_url,
        )  # fmt: skip
        try:
            from tests.faults.workers import wait_ready

            wait_ready(worker)
            send(import_orders_task, [job_id], broker_url=broker_url, queue=queue)
            # when the database restarts while the import writes
            wait_for(
                lambda: job_row(database_url, job_id).get("progress", 0) >= 0.2,
                timeout=180,
                what="the import",
            )
            restart()
            finished = wait_for(
                lambda: (
                    (row := job_row(database_url, job_id)).get("status") in ("succeeded", "failed") and row
                ),
                timeout=300,
                what="the import to finish",
            )
        finally:
            stop(worker)

    # then the import ran again after the lost connection and wrote every order once
    assert finished["status"] == "succeeded", finished["error"] + (tmp_path / "w.log").read_text()[-3000:]
    assert finished["deliveries"] == 2
    assert finished["orders"] == finished["result"]["orders"]["created"] > 0
