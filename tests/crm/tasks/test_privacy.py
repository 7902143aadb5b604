"""The retention job runs on the job machinery of every task: claimed once, a delivery limit, progress."""

import datetime as dt
import socket
import subprocess
import sys

import pytest
from django.utils import timezone

from core.models import Job
from crm.models import BehaviourEvent
from crm.tasks.privacy import retention_enqueue, retention_task, scheduled_retention_task
from tests.factories import BehaviourEventFactory

pytestmark = pytest.mark.django_db


def old_event() -> BehaviourEvent:
    return BehaviourEventFactory(at=timezone.now() - dt.timedelta(days=31))


@pytest.fixture
def retention_settings(settings, tmp_path):
    settings.BEHAVIOUR_EVENT_RETENTION_DAYS = 30
    settings.MEDIA_ROOT = tmp_path
    settings.MODEL_ARTIFACT_ROOT = tmp_path / "models"
    return settings


def test_the_nightly_run_is_a_job_a_worker_claims_and_the_sweep_can_send_again(
    eager_celery, retention_settings
):
    old_event()

    scheduled_retention_task.delay()

    job = Job.objects.get(kind=Job.Kind.RETENTION)
    assert (job.status, job.progress, job.deliveries) == (Job.Status.SUCCEEDED, 1.0, 1)
    assert job.owner and job.started_at and job.finished_at
    assert (job.task_name, job.task_args) == (retention_task.name, [job.pk])
    assert job.message == "1 old events, 0 uploads deleted"
    assert not BehaviourEvent.objects.exists()


def test_a_second_delivery_of_a_finished_run_does_nothing(
    eager_celery, retention_settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = retention_enqueue()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    later = old_event()

    retention_task.delay(job.pk)

    assert BehaviourEvent.objects.filter(pk=later.pk).exists()
    assert Job.objects.get(pk=job.pk).deliveries == 1


def test_a_run_that_killed_its_workers_is_failed_at_the_delivery_limit_not_started_again(
    eager_celery, retention_settings
):
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    event = old_event()
    job = retention_enqueue(on_commit=True)  # not sent: the test's transaction never commits
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING,
        deliveries=retention_settings.CELERY_TASK_MAX_DELIVERIES,
        owner=f"{socket.gethostname()}:{process.pid}:gone",
        heartbeat_at=timezone.now(),
    )

    retention_task.delay(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert f"after {retention_settings.CELERY_TASK_MAX_DELIVERIES} deliveries" in job.error
    assert BehaviourEvent.objects.filter(pk=event.pk).exists()
