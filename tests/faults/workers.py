"""Worker processes, brokers and their cleanup for the fault and cluster tests."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from tests.conftest import ROOT, _database_url_for_worker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def redis_server(folder: Path, port: int | None = None) -> Iterator[tuple[str, "RedisControl"]]:
    """A throwaway redis-server of this test (never the machine's), on a free port."""
    if not shutil.which("redis-server"):
        import pytest

        pytest.skip("redis-server is not installed")
    control = RedisControl(folder, port or free_port())
    control.start()
    try:
        yield f"redis://127.0.0.1:{control.port}/0", control
    finally:
        control.stop()


class RedisControl:
    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port, self.process = folder, port, None

    def start(self) -> None:
        # Append-only persistence, as a production broker would keep its queues over a restart.
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process, timeout=10)

    def restart(self, down_seconds: float = 2.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


def rabbitmq_url() -> str | None:
    url = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
    try:
        from kombu import Connection

        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception:
        return None
    return url


def start_worker(
    *,
    broker_url: str,
    node: str,
    queue: str,
    log_path: Path,
    concurrency: int = 1,
    command: list[str] | None = None,
    **env_extra: str,
) -> subprocess.Popen:
    """``celery worker`` with its own node name (or ``command``), on ``queue`` of ``broker_url``, reading
    the test database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "retail_site.settings.test",
        "DATABASE_URL": _database_url_for_worker(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_TRAINING_QUEUE": f"{queue}-training",
        "MODEL_ARTIFACT_ROOT": str(settings.MODEL_ARTIFACT_ROOT),
        "PYTHONUNBUFFERED": "1",
        **env_extra,
    }
    if command is None:
        command = [sys.executable, "-m", "celery", "-A", "retail_site", "worker"]
        command += ["-Q", f"{queue},{queue}-training", "--concurrency", str(concurrency), "-n", node]
        command += ["--without-mingle", "--without-gossip", "--loglevel", "INFO"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    process.log_path = log_path
    return process


def wait_ready(*processes: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    for process in processes:
        while "ready." not in process.log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{process.log_path.read_text()[-3000:]}")
            time.sleep(0.2)


def send(task, args: list, *, broker_url: str, queue: str) -> None:
    """Send ``task`` to ``queue`` on ``broker_url`` (not the test session's broker)."""
    from kombu import Connection

    with Connection(broker_url) as connection:
        task.apply_async(args=args, connection=connection, queue=queue)


def wait_for(predicate, timeout: float = 120.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"Timed out waiting for {what}")


def procfile_worker_command(name: str, *, queue: str) -> list[str]:
    """The command of the ``name`` line of Procfile.cluster, on ``queue`` instead of the default queues
    (so a test shares no queue with anything else on its broker)."""
    import shlex

    lines = dict(
        line.split(":", 1)
        for line in (ROOT / "Procfile.cluster").read_text().splitlines()
        if line[:1].isalnum()
    )
    words = shlex.split(lines[name].replace("${WORKER_CONCURRENCY:-1}", "1"))
    while "=" in words[0]:  # the line's environment (DEBUG's default); the test's own is kept
        words.pop(0)
    assert words[0] == ".venv/bin/celery", words
    queues = words[words.index("-Q") + 1].split(",")
    words[words.index("-Q") + 1] = ",".join(queue if q == "celery" else f"{queue}-{q}" for q in queues)
    return [sys.executable, "-m", "celery", *words[1:], "--without-gossip"]
