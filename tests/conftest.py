import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from retail_site.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
# Data the tests read, shipped in the project with their provenance (data/README.md, tests/data/*/README.md).
UCI_PARQUET = ROOT / "data" / "online_retail_2010-12_2011-12.parquet"
CDNOW = ROOT / "tests" / "data" / "cdnow"


def _database_url_for_worker() -> str:
    """The URL of the test database this session created, for a worker in another process."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache (throttle counters, dashboard aggregates)."""
    from django.core.cache import cache

    cache.clear()
    yield


# The people of a page test: a staff member and a shopper, signed in through Django's session. The API's
# tests (tests/crm/api/, tests/recommender/api/) override these with token clients of the same names.
@pytest.fixture
def staff_user(db):
    from tests.factories import StaffUserFactory

    return StaffUserFactory(username="staffer")


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def shopper(db):
    """A signed-up shopper: a login user linked to a customer record."""
    from tests.factories import CustomerFactory, UserFactory

    return CustomerFactory(user=UserFactory(username="shopper"), name="Sam Shopper", country="France")


@pytest.fixture
def shopper_client(shopper) -> Client:
    client = Client()
    client.force_login(shopper.user)
    return client


@pytest.fixture
def shop_data(db, shopper) -> dict:
    """A small shop around the shopper: see tests/shop_data.py."""
    from tests.shop_data import build_shop_data

    return build_shop_data(3, shopper=shopper)


@pytest.fixture
def eager_celery():
    """Run tasks in-process for unit tests; integration tests use ``celery_worker_process``."""
    celery_app.conf.task_always_eager = True
    yield celery_app
    celery_app.conf.task_always_eager = False


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real ``celery worker`` process on the configured broker, reading the test database."""
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "retail_site.settings.test",
        "DATABASE_URL": _database_url_for_worker(),
        "MODEL_ARTIFACT_ROOT": str(settings.MODEL_ARTIFACT_ROOT),
        "PYTHONUNBUFFERED": "1",
        # Small chunks, so that the test shops' scorings run as several chunk tasks.
        "RECOMMENDER_SCORE_CHUNK_SIZE": "100",
    }
    celery_app.control.purge()
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "retail_site",
                "worker",
                "-Q",
                "celery,training",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"test-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"Celery worker did not start:\n{log_path.read_text()}")
        time.sleep(0.2)
    process.log_path = log_path
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_for_job(job_id: int, timeout: float = 120.0):
    """Poll a Job row until it finishes (as the portal and ``--wait`` do)."""
    from core.models import Job

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.is_finished:
            return job
        time.sleep(0.25)
    raise TimeoutError(f"Job {job_id} did not finish in {timeout}s")
