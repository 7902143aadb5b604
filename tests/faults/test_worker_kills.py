"""A worker process killed (SIGKILL, as the OOM killer does it) in the middle of a job, with a real worker.

Each time: nothing half-written is visible, the served version is unchanged or the new one complete, the
job ends succeeded (after the redelivery) or failed with the reason, and nothing runs twice.
"""

import datetime as dt
import os
import signal

import pandas as pd
import pytest

from core.jobs import job_create
from core.models import Job
from crm.models import Order, OrderLine
from crm.services.demo_data import generate_demo_data
from crm.tasks.imports import import_orders_enqueue
from crm.tasks.marketing import segments_enqueue
from recommender.models import ModelVersion, Recommendation
from recommender.services.scoring import scored_customer_ids
from recommender.services.training import model_version_train
from recommender.tasks import score_model_version_task
from tests.conftest import UCI_PARQUET, wait_for_job
from tests.faults.workers import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.django_db(transaction=True)]

FAST = {"epochs": 2, "run_als": False, "training_windows": 2, "patience": 1}


def owner_pid_once_running(job_id: int, *, start: int = 1, min_progress: float = 0.0) -> int:
    """The pid of the worker process running the job's ``start``-th start."""

    def running():
        job = Job.objects.get(pk=job_id)
        if job.status == Job.Status.RUNNING and job.deliveries == start and job.progress >= min_progress:
            return int(job.owner.split(":")[1])
        return None

    return wait_for(running, what=f"start {start} of job {job_id}")


@pytest.fixture
def uci_extract(tmp_path):
    path = tmp_path / "orders.parquet"
    pd.read_parquet(UCI_PARQUET).head(40_000).to_parquet(path, index=False)
    return path


def enqueue_import(path):
    return import_orders_enqueue(
        path=path, file_format="auto", file_type="orders", skip_invalid=True, original_name=path.name
    )


def test_an_import_whose_worker_is_killed_is_run_again_and_imported_once(uci_extract, celery_worker_process):
    job = enqueue_import(uci_extract)

    # when the worker process dies while it writes the orders
    os.kill(owner_pid_once_running(job.pk, min_progress=0.2), signal.SIGKILL)

    # then nothing of the first run is visible, and the redelivered job imports the file once
    assert Order.objects.count() == 0
    job = wait_for_job(job.pk, timeout=300)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.deliveries == 2
    invoices = pd.read_parquet(uci_extract)["InvoiceNo"].nunique()
    assert Order.objects.count() == job.result["orders"]["created"] <= invoices
    assert OrderLine.objects.count() == job.result["order_lines"]["created"] > 0


def test_an_import_that_kills_every_worker_stops_after_the_delivery_limit(
    uci_extract, celery_worker_process, settings
):
    job = enqueue_import(uci_extract)

    # when every start of the job kills the process running it
    for start in range(1, settings.CELERY_TASK_MAX_DELIVERIES + 1):
        os.kill(owner_pid_once_running(job.pk, start=start), signal.SIGKILL)

    # then it is failed with the reason and not started again; nothing was written
    job = wait_for_job(job.pk, timeout=120)
    assert job.status == Job.Status.FAILED
    assert f"after {settings.CELERY_TASK_MAX_DELIVERIES} deliveries" in job.error
    assert job.deliveries == settings.CELERY_TASK_MAX_DELIVERIES
    assert Order.objects.count() == 0


@pytest.fixture
def shop_history():
    return generate_demo_data(
        customers=400, products=80, orders=3000, seed=5, start=dt.date(2024, 1, 1), months=12
    )


def test_a_scoring_whose_worker_is_killed_in_a_chunk_completes_every_range_once(
    shop_history, celery_worker_process
):
    # given a served version and a newer one to score in chunks (100 customers each in the test worker)
    served = model_version_train(model_version=ModelVersion.objects.create(params={"config": FAST}))
    score_model_version_task.apply(args=[served.pk])
    served.refresh_from_db()
    assert served.status == ModelVersion.Status.ACTIVE
    served_rows = list(Recommendation.objects.filter(model_version=served).values_list("id", flat=True))
    newer = model_version_train(
        model_version=ModelVersion.objects.create(params={"config": {**FAST, "seed": 3}, "force": True})
    )
    job = job_create(kind=Job.Kind.SCORE, params={"model_version_id": newer.pk})
    ModelVersion.objects.filter(pk=newer.pk).update(job=job)
    score_model_version_task.delay(newer.pk, True)

    # when the worker process dies while it scores a chunk
    chunk = wait_for(
        lambda: Job.objects.filter(parent=job, kind=Job.Kind.SCORE_CHUNK, status=Job.Status.RUNNING).first(),
        what="a chunk to start",
    )
    os.kill(int(chunk.owner.split(":")[1]), signal.SIGKILL)
    # (while it runs, the served version is what readers get)
    assert ModelVersion.objects.active().get() == served

    # then the chunk is delivered again, every range is written once, and the new version is served
    job = wait_for_job(job.pk, timeout=300)
    assert job.status == Job.Status.SUCCEEDED, job.error
    chunk.refresh_from_db()
    assert chunk.status == Job.Status.SUCCEEDED and chunk.deliveries == 2
    chunks = Job.objects.filter(parent=job, kind=Job.Kind.SCORE_CHUNK)
    assert chunks.count() == job.result["chunks"] >= 3
    assert set(chunks.values_list("status", flat=True)) == {Job.Status.SUCCEEDED}
    newer.refresh_from_db()
    assert newer.status == ModelVersion.Status.ACTIVE
    rows = Recommendation.objects.filter(model_version=newer)
    assert rows.values("customer_id").distinct().count() == len(scored_customer_ids())
    assert rows.count() == rows.values("customer_id", "rank").distinct().count()  # no range written twice
    assert (
        list(Recommendation.objects.filter(model_version=served).values_list("id", flat=True)) == served_rows
    )


def test_a_segment_run_whose_worker_is_killed_is_run_again_and_stored_once(
    shop_history, celery_worker_process
):
    from crm.models import SegmentRun

    job = segments_enqueue()

    os.kill(owner_pid_once_running(job.pk), signal.SIGKILL)

    job = wait_for_job(job.pk, timeout=300)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.deliveries == 2
    run = SegmentRun.objects.get()  # one run stored, complete
    assert run.pk == job.result["segment_run_id"] and run.customer_count == job.result["customers"] > 0
