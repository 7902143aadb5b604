"""Retention: the nightly task (beat) that deletes personal data past its time."""

from celery import shared_task

from core.jobs import job_create, job_running, job_succeed
from core.models import Job
from crm.services.privacy import retention_apply

__all__ = ["retention_task", "scheduled_retention_task"]


@shared_task
def retention_task(job_id: int) -> None:
    with job_running(job_id) as progress:
        counts = retention_apply(progress=progress)
        job_succeed(
            job_id=job_id,
            result=counts,
            message=(
                f"{counts['behaviour_events']:,} old events, {counts['import_uploads']:,} uploads deleted"
            ),
        )


@shared_task
def scheduled_retention_task() -> None:
    job = job_create(kind=Job.Kind.RETENTION, message="Nightly retention")
    retention_task(job.pk)
