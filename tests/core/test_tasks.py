"""The delivery guard of every job task: claims, second copies, poison messages, locks, the sweep."""

import datetime as dt
import os
import socket
import subprocess
import sys

import pytest
from django.test import override_settings
from django.utils import timezone

from core.jobs import job_create
from core.models import Job
from core.tasks import job_claim, jobs_sweep, owner_alive
from crm.tasks.marketing import compute_promotion_targets_task
from recommender.models import ModelVersion
from recommender.services.versions import model_versions_sweep
from tests.factories import PromotionFactory

pytestmark = pytest.mark.django_db

HOST = socket.gethostname()


def dead_pid() -> int:
    """The pid of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def claim(job: Job, owner: str = f"{HOST}:1:x", **kwargs):
    return job_claim(job_id=job.pk, owner=owner, max_deliveries=kwargs.pop("max_deliveries", 3), **kwargs)


def test_a_queued_job_is_claimed_once_and_counts_its_deliveries():
    job = job_create(kind=Job.Kind.OTHER)

    first = claim(job, owner=f"{HOST}:{os.getppid()}:a")

    job.refresh_from_db()
    assert first.outcome == "run"
    assert (job.status, job.deliveries, job.owner) == (Job.Status.RUNNING, 1, f"{HOST}:{os.getppid()}:a")
    assert job.heartbeat_at is not None and job.started_at is not None
    # a second copy while its process is alive (the parent of this test process, heart beating) is refused
    second = claim(job, owner=f"{HOST}:{os.getpid()}:b")
    assert second.outcome == "skip" and "is running in" in second.reason
    job.refresh_from_db()
    assert job.deliveries == 1


def test_a_finished_job_is_never_run_again():
    job = job_create(kind=Job.Kind.OTHER)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    assert claim(job).outcome == "skip"
    assert Job.objects.get(pk=job.pk).deliveries == 0


def test_a_job_whose_process_died_is_taken_over_then_failed_past_the_delivery_limit():
    job = job_create(kind=Job.Kind.IMPORT)
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, deliveries=1, owner=f"{HOST}:{dead_pid()}:a", heartbeat_at=timezone.now()
    )
    # redelivered after its worker died: started again
    assert claim(job, owner=f"{HOST}:{os.getpid()}:b").outcome == "run"
    assert Job.objects.get(pk=job.pk).deliveries == 2

    # when it kills that worker too, and the next, the job stops at the limit with the reason
    Job.objects.filter(pk=job.pk).update(deliveries=3, owner=f"{HOST}:{dead_pid()}:c", error="MemoryError")
    outcome = claim(job, owner=f"{HOST}:{os.getpid()}:d")
    job.refresh_from_db()
    assert outcome.outcome == "failed"
    assert job.status == Job.Status.FAILED and job.deliveries == 3
    assert "after 3 deliveries" in job.error and "stopped before it finished" in job.error
    assert "MemoryError" in job.error


def test_a_job_on_another_host_is_alive_while_its_heartbeat_is_fresh():
    now = timezone.now()
    assert owner_alive("elsewhere:123:a", now)
    assert not owner_alive("elsewhere:123:a", now - dt.timedelta(hours=1))
    assert not owner_alive("", now)


def test_one_running_job_per_lock_key():
    holder = job_create(kind=Job.Kind.TRAIN)
    waiting = job_create(kind=Job.Kind.TRAIN)
    assert claim(holder, owner=f"{HOST}:{os.getppid()}:a", lock_key="training").outcome == "run"

    outcome = claim(waiting, owner=f"{HOST}:{os.getpid()}:b", lock_key="training")

    assert outcome.outcome == "wait" and f"#{holder.pk}" in outcome.reason
    assert Job.objects.get(pk=waiting.pk).status == Job.Status.QUEUED
    # once the holder is dead, the next claim fails it and runs
    Job.objects.filter(pk=holder.pk).update(owner=f"{HOST}:{dead_pid()}:a")
    assert claim(waiting, owner=f"{HOST}:{os.getpid()}:b", lock_key="training").outcome == "run"
    assert Job.objects.get(pk=holder.pk).status == Job.Status.FAILED


def test_two_target_runs_of_one_promotion_do_not_run_at_once(eager_celery):
    from celery.exceptions import Retry

    promotion = PromotionFactory()
    running = job_create(kind=Job.Kind.TARGETS, params={"promotion_id": promotion.pk})
    Job.objects.filter(pk=running.pk).update(
        status=Job.Status.RUNNING,
        lock_key=f"targets:{promotion.pk}",
        owner=f"{HOST}:{os.getppid()}:a",
        heartbeat_at=timezone.now(),
    )
    second = job_create(kind=Job.Kind.TARGETS, params={"promotion_id": promotion.pk})

    with pytest.raises(Retry):
        compute_promotion_targets_task.apply(args=[second.pk], throw=True)

    second.refresh_from_db()
    assert second.status == Job.Status.QUEUED and f"Waiting for job #{running.pk}" in second.message


@override_settings(
    JOB_STALE_AFTER_SECONDS=60, JOB_RESEND_AFTER_SECONDS=600, JOB_QUEUED_FAIL_AFTER_SECONDS=3600
)
def test_the_sweep_fails_dead_running_jobs_and_never_started_ones():
    long_ago = timezone.now() - dt.timedelta(hours=2)
    dead = job_create(kind=Job.Kind.SEGMENTS)
    Job.objects.filter(pk=dead.pk).update(
        status=Job.Status.RUNNING, owner=f"{HOST}:{dead_pid()}:a", heartbeat_at=long_ago
    )
    alive = job_create(kind=Job.Kind.SEGMENTS)
    Job.objects.filter(pk=alive.pk).update(
        status=Job.Status.RUNNING, owner=f"{HOST}:{os.getppid()}:a", heartbeat_at=timezone.now()
    )
    never = job_create(kind=Job.Kind.IMPORT)
    Job.objects.filter(pk=never.pk).update(created_at=long_ago)
    version = ModelVersion.objects.create(status=ModelVersion.Status.QUEUED, job=never)

    assert jobs_sweep()["failed"] == 2

    assert Job.objects.get(pk=dead.pk).status == Job.Status.FAILED
    assert "stopped without finishing" in Job.objects.get(pk=dead.pk).error
    assert Job.objects.get(pk=alive.pk).status == Job.Status.RUNNING
    assert Job.objects.get(pk=never.pk).status == Job.Status.FAILED
    # and the version that job left queued no longer blocks the nightly retrain
    assert model_versions_sweep() == 1
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.FAILED and "No worker took this job" in version.error
    assert not ModelVersion.objects.in_progress().exists()


@override_settings(JOB_RESEND_AFTER_SECONDS=60, JOB_QUEUED_FAIL_AFTER_SECONDS=3600)
def test_the_sweep_sends_a_queued_job_again_and_the_guard_runs_it_once(eager_celery):
    from core.tasks import job_send
    from crm.models import Customer
    from crm.tasks.maintenance import count_customers_task

    job = job_create(kind=Job.Kind.OTHER)
    job_send(job=job, task_name=count_customers_task.name, on_commit=False)  # runs (eagerly)
    assert Job.objects.get(pk=job.pk).deliveries == 1
    stuck = job_create(kind=Job.Kind.OTHER)
    Job.objects.filter(pk=stuck.pk).update(
        task_name=count_customers_task.name,
        task_args=[stuck.pk],
        created_at=timezone.now() - dt.timedelta(hours=0.5),
    )

    assert jobs_sweep()["resent"] == 1
    assert jobs_sweep()["resent"] == 0  # not again before JOB_RESEND_AFTER_SECONDS

    stuck.refresh_from_db()
    assert stuck.status == Job.Status.SUCCEEDED and stuck.result == {"customers": Customer.objects.count()}
    # the first one is not run a second time by a resend of its message
    count_customers_task.apply(args=[job.pk])
    assert Job.objects.get(pk=job.pk).deliveries == 1


def test_the_sweep_finishes_a_scoring_whose_last_chunk_died_before_it_queued_the_finish(eager_celery):
    from recommender.tasks import scoring_finishes_resend

    parent = job_create(kind=Job.Kind.SCORE)
    Job.objects.filter(pk=parent.pk).update(status=Job.Status.RUNNING)
    chunk = Job.objects.create(kind=Job.Kind.SCORE_CHUNK, parent=parent, status=Job.Status.RUNNING)
    finish = Job.objects.create(kind=Job.Kind.SCORE_FINISH, parent=parent, params={"model_version_id": 0})

    # while a chunk runs, the finish is left alone
    assert scoring_finishes_resend() == 0

    Job.objects.filter(pk=chunk.pk).update(status=Job.Status.SUCCEEDED)
    assert scoring_finishes_resend() == 1

    # the finish was sent and run (here eagerly; its version does not exist, so it fails the scoring)
    finish.refresh_from_db()
    assert finish.task_name == "recommender.tasks.finish_scoring_task" and finish.deliveries == 1
    assert Job.objects.get(pk=parent.pk).status == Job.Status.FAILED


def test_a_failed_job_says_what_went_wrong_without_the_traceback():
    """The job's error held a traceback with the code's file paths, which the API gave every staff role."""
    promotion = PromotionFactory()
    job = job_create(kind=Job.Kind.TARGETS, params={"promotion_id": promotion.pk})
    promotion.delete()

    compute_promotion_targets_task.apply(args=[job.pk])

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == "DoesNotExist: Promotion matching query does not exist."
    assert "Traceback" not in job.error and ".py" not in job.error
