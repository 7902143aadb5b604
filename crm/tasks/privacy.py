"""Retention: the nightly task (beat) that deletes personal data past its time."""

from celery import shared_task

from core.jobs import JobReporter, job_create
from core.models import Job
from core.tasks import job_send, job_task
from crm.services.privacy import retention_apply

__all__ = ["retention_enqueue", "retention_task", "scheduled_retention_task"]


def retention_enqueue(*, user=None, message: str = "Retention", on_commit: bool = True) -> Job:
    """A retention job for a worker; sent once the caller's transaction commits (or at once with
    ``on_commit=False``, as beat does: it has no transaction)."""
    job = job_create(kind=Job.Kind.RETENTION, user=user, message=message)
    return job_send(job=job, task_name=retention_task.name, on_commit=on_commit)


# Deleting what is past its time again deletes nothing more: a redelivered or retried run is safe. One run
# at a time, so two copies never race over the same batches and upload files.
@job_task(lock_key=lambda job: "retention")
def retention_task(job: Job) -> tuple[dict, str]:
    counts = retention_apply(progress=JobReporter(job.pk))
    return counts, f"{counts['behaviour_events']:,} old events, {counts['import_uploads']:,} uploads deleted"


@shared_task(soft_time_limit=60, time_limit=120)
def scheduled_retention_task() -> None:
    """Nightly (beat): a Job row like any other, run by a worker, so the portal shows it."""
    retention_enqueue(message="Nightly retention", on_commit=False)
