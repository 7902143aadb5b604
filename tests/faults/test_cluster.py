"""The multi-machine layout: several workers with their own node names, over Redis and over RabbitMQ,
against one PostgreSQL; one scoring's chunks are taken by all of them. And a broker restarted mid-job."""

import datetime as dt
import socket
import uuid

import pytest

from core.jobs import job_create
from core.models import Job
from crm.services.demo_data import generate_demo_data
from recommender.models import ModelVersion, Recommendation
from recommender.services.scoring import scored_customer_ids
from recommender.services.training import model_version_train
from recommender.tasks import score_model_version_task
from tests.conftest import wait_for_job
from tests.faults.workers import (
    procfile_worker_command,
    rabbitmq_url,
    redis_server,
    send,
    start_worker,
    stop,
    wait_for,
    wait_ready,
)

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.django_db(transaction=True)]

# The node names of Procfile.cluster's worker1 and worker2 lines, as the workers report them.
NODES = [f"worker1@{socket.gethostname()}", f"worker2@{socket.gethostname()}"]
FAST = {"epochs": 2, "run_als": False, "training_windows": 2, "patience": 1}


@pytest.fixture
def trained_version():
    generate_demo_data(customers=400, products=80, orders=3000, seed=8, start=dt.date(2024, 1, 1), months=12)
    version = model_version_train(model_version=ModelVersion.objects.create(params={"config": FAST}))
    job = job_create(kind=Job.Kind.SCORE, params={"model_version_id": version.pk})
    ModelVersion.objects.filter(pk=version.pk).update(job=job)
    version.refresh_from_db()
    return version


def assert_served_completely(version: ModelVersion, job: Job) -> None:
    assert job.status == Job.Status.SUCCEEDED, job.error
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.ACTIVE
    rows = Recommendation.objects.filter(model_version=version)
    assert rows.values("customer_id").distinct().count() == len(scored_customer_ids())
    assert rows.count() == rows.values("customer_id", "rank").distinct().count()
    chunks = Job.objects.filter(parent=job, kind=Job.Kind.SCORE_CHUNK)
    assert set(chunks.values_list("status", flat=True)) == {Job.Status.SUCCEEDED}


def run_cluster(broker_url: str, version: ModelVersion, tmp_path) -> Job:
    """Procfile.cluster's worker1 and worker2, on a queue of this test, score ``version``."""
    queue = f"test-cluster-{uuid.uuid4().hex[:8]}"
    workers = [
        start_worker(
            broker_url=broker_url,
            node=name,
            queue=queue,
            log_path=tmp_path / f"{name}.log",
            command=procfile_worker_command(name, queue=queue),
            RECOMMENDER_SCORE_CHUNK_SIZE="25",
        )
        for name in ("worker1", "worker2")
    ]
    try:
        wait_ready(*workers)
        send(score_model_version_task, [version.pk, True], broker_url=broker_url, queue=queue)
        return wait_for_job(version.job_id, timeout=300)
    finally:
        for worker in workers:
            stop(worker)


def test_two_workers_over_redis_share_the_chunks_of_one_scoring(trained_version, tmp_path):
    with redis_server(tmp_path) as (broker_url, _redis):
        job = run_cluster(broker_url, trained_version, tmp_path)

    assert_served_completely(trained_version, job)
    chunks = Job.objects.filter(parent=job, kind=Job.Kind.SCORE_CHUNK)
    assert {chunk.result["worker"] for chunk in chunks} == set(NODES)
    assert job.result["workers"] == NODES


def test_two_workers_over_rabbitmq_share_the_chunks_of_one_scoring(trained_version, tmp_path):
    broker_url = rabbitmq_url()
    if broker_url is None:
        pytest.skip("no RabbitMQ on 127.0.0.1:5672 (TEST_RABBITMQ_URL)")

    job = run_cluster(broker_url, trained_version, tmp_path)

    assert_served_completely(trained_version, job)
    assert job.result["workers"] == NODES


def test_a_scoring_survives_a_redis_restart_in_the_middle(trained_version, tmp_path):
    queue = f"test-restart-{uuid.uuid4().hex[:8]}"
    with redis_server(tmp_path) as (broker_url, redis):
        worker = start_worker(
            broker_url=broker_url, node="restart@test", queue=queue, log_path=tmp_path / "w.log",
            RECOMMENDER_SCORE_CHUNK_SIZE="25",
        )  # fmt: skip
        try:
            wait_ready(worker)
            send(score_model_version_task, [trained_version.pk, True], broker_url=broker_url, queue=queue)
            # when the broker goes down and comes back while the chunks run
            wait_for(
                lambda: Job.objects.filter(
                    parent_id=trained_version.job_id, kind=Job.Kind.SCORE_CHUNK, status=Job.Status.SUCCEEDED
                ).exists(),
                what="a first chunk",
            )
            redis.restart()
            job = wait_for_job(trained_version.job_id, timeout=300)
        finally:
            stop(worker)

    # then the scoring completes, each chunk ran once, and the new version is served whole
    assert_served_completely(trained_version, job)
    chunks = Job.objects.filter(parent=job, kind=Job.Kind.SCORE_CHUNK)
    assert set(chunks.values_list("deliveries", flat=True)) == {1}
